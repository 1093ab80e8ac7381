/**
 * @vouch/testing/registry — registries for tests (Node only), all on 127.0.0.1: a real CNCF
 * distribution registry ({@link startRegistry}, Debian `docker-registry`) with optional basic or
 * token auth ({@link startTokenServer}), an in-memory registry with the Referrers API
 * ({@link startFakeRegistry}), a fault-injecting proxy ({@link startFaultProxy}), and the process
 * helpers they use ({@link requireTool} skips with a NOTICE, or fails under CI=true).
 */
export { type FakeRegistryOptions, type RunningFakeRegistry, startFakeRegistry } from './fake-registry.js';
export { type FaultAction, type FaultRule, type ProxyLogEntry, type RunningFaultProxy, startFaultProxy } from './fault-proxy.js';
export { freePort, listenLocal, readRequestBody, requireTool, run, which } from './process.js';
export { type RunningRegistry, registryBinary, type StartRegistryOptions, skopeoCopy, startRegistry } from './registry-server.js';
export { type RunningTokenServer, type StartTokenServerOptions, startTokenServer } from './token-server.js';
