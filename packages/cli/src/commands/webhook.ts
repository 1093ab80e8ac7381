import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** `vouch webhook`: registered by run.ts; filled in by its owner. */
export function registerWebhook(_program: Command, _ctx: CliContext): void {}
