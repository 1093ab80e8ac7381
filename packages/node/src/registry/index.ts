export * from './docker-credentials.js';
export * from './layout-fs.js';
export * from './undici-fetch.js';
