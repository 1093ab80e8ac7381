/**
 * @vouch/testing/vitest — `toRejectWithCode` / `toThrowWithCode` (see ./matchers.ts). The repository's
 * vitest config registers them through ./setup.ts; elsewhere, `expect.extend(vouchMatchers)`.
 */
export { vouchMatchers } from './matchers.js';
