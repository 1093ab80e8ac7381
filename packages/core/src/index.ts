export * from './bytes.js';
export * from './digest.js';
export * from './errors.js';
export * from './oci.js';
export * from './pem.js';
export * from './reference.js';
export * from './stream.js';
export * from './types.js';
