export * from './blob/index.js';
export * from './config/index.js';
export * from './crl-cache/index.js';
export * from './docker-config/index.js';
export * from './plugin/index.js';
export * from './registry/index.js';
export * from './truststore/index.js';
