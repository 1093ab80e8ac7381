export * from './types.js';
export * from './verify.js';
export * from "./sign.js";
