import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** `vouch blob`: registered by run.ts; filled in by its owner. */
export function registerBlob(_program: Command, _ctx: CliContext): void {}
