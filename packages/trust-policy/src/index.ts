export * from './identity.js';
export * from './level.js';
export * from './policy.js';
export * from './scope.js';
export * from './select.js';
export * from './trust-store.js';
export * from './types.js';
