import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** `vouch plugin`: registered by run.ts; filled in by its owner. */
export function registerPlugin(_program: Command, _ctx: CliContext): void {}
