/**
 * @vouch/plugin: the Notary Project plugin contract (v1.0) as types, constants and strict
 * runtime validation; an SDK to write plugins once (`definePlugin`) and run them in-process
 * (`inProcessPlugin`) or as a `notation-<name>` executable (`@vouch/plugin/cli`); and a
 * conformance helper for plugin authors (`pluginConformance`). Runtime-agnostic.
 */
export * from './client.js';
export * from './codec.js';
export * from './conformance.js';
export * from './constants.js';
export * from './crypto.js';
export * from './define.js';
export * from './errors.js';
export type * from './types.js';
