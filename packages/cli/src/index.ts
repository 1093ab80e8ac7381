export type { CliIo, GlobalOptions, TextSink } from './context.js';
export { runCli, VERSION } from './run.js';
