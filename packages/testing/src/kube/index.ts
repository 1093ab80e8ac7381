/**
 * @vouch/testing/kube — a Kubernetes API server fake for tests (Node only): see {@link startFakeApiServer}.
 */
export {
  type FakeApiServer,
  type FakeApiServerOptions,
  type InterceptedRequest,
  type KubeObject,
  type RequestRecord,
  startFakeApiServer,
} from './apiserver.js';
export { jsonPatch, mergePatch } from './patch.js';
export { groupVersion, RESOURCE_TYPES, type ResourceType, resourceId } from './resources.js';
export { parseSelector, type Selector } from './selectors.js';
