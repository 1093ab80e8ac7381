export * from './layout-fs.js';
export * from './undici-fetch.js';
