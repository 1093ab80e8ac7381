#!/usr/bin/env node
import { basename } from 'node:path';
import { runCli } from './run.js';

// Installed (or symlinked) as `notation`, vouch names itself `notation` in messages: a drop-in.
const invokedAs = basename(process.argv[1] ?? '').replace(/\.(c|m)?js$/, '');

runCli(process.argv.slice(2), { stdin: process.stdin, programName: invokedAs === 'notation' ? 'notation' : 'vouch' }).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
