export * from './check.js';
export * from './discovery.js';
export * from './executable.js';
export * from './install.js';
