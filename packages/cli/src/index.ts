export type { CliIo, GlobalOptions, TextSink } from './context.js';
export { runCli, VERSION } from './run.js';
export { startWebhookServer, type WebhookLogEntry, type WebhookServer, type WebhookServerOptions } from './webhook/server.js';
