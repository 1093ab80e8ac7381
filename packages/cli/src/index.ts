/**
 * `@vouch/cli`: the `vouch` command line, notation-compatible, and what it offers to run in
 * process — {@link runCli} (the CLI as a function, with its own stdio and environment) and
 * {@link startWebhookServer} (the Kyverno-compatible admission webhook).
 *
 * @packageDocumentation
 */

// The CLI in process
export type { CliIo, GlobalOptions } from './context.js';
export { runCli, VERSION } from './run.js';

// The admission webhook
export { startWebhookServer, type WebhookLogEntry, type WebhookServer, type WebhookServerOptions } from './webhook/server.js';
