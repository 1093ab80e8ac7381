/**
 * Test helpers for registry tests (not part of the public @vouch/node API): a real CNCF
 * distribution registry, a token server, an in-memory Referrers-API registry and a
 * fault-injecting proxy, all on 127.0.0.1.
 */
export * from './fake-registry.js';
export * from './fault-proxy.js';
export * from './process.js';
export * from './registry-server.js';
export * from './token-server.js';
