#!/usr/bin/env node
import { runCli } from './run.js';

runCli(process.argv.slice(2), { stdin: process.stdin }).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
