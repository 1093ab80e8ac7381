export * from './blob.js';
export * from './plugin-signer.js';
export * from './plugin-verify.js';
export * from './sign.js';
export * from './timestamp-sign.js';
export * from './types.js';
export * from './verify.js';
