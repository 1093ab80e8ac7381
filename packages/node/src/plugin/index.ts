export * from './check.js';
export * from './discovery.js';
export * from './executable.js';
export * from './install.js';
export { readTar, type TarEntry } from './tar.js';
