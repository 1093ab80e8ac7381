import { benchRegistry } from './registry.js';
await benchRegistry(process.argv.slice(2));
