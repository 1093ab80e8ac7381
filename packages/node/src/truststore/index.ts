export * from './file-trust-store.js';
export * from './manage.js';
