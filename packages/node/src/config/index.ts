export * from './dirs.js';
export { writeFileAtomic } from './fsutil.js';
export * from './notation-config.js';
export * from './policy.js';
export * from './signing-keys.js';
export * from './verifier.js';
