export * from './trust-store.js';
