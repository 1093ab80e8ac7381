import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** `vouch kyverno`: registered by run.ts; filled in by its owner. */
export function registerKyverno(_program: Command, _ctx: CliContext): void {}
