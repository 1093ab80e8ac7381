import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** `vouch demo`: registered by run.ts; filled in by its owner. */
export function registerDemo(_program: Command, _ctx: CliContext): void {}
