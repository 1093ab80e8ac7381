#!/usr/bin/env node
import { basename } from 'node:path';
import { runCli } from './run.js';
import { processSink } from './stdio.js';

// Installed (or symlinked) as `notation`, vouch names itself `notation` in messages: a drop-in.
const invokedAs = basename(process.argv[1] ?? '').replace(/\.(c|m)?js$/, '');

const stdout = processSink(process.stdout);
const stderr = processSink(process.stderr);

/**
 * A write error other than a closed reader (EPIPE is a normal end) fails the command. Streams
 * report write errors on a later tick: look once they have.
 */
function finish(code: number): void {
  process.exitCode = code;
  setImmediate(() => {
    const broken = stdout.error ?? stderr.error;
    if (broken && code === 0) {
      stderr.write(`Error: cannot write the output: ${broken.message}\n`);
      process.exitCode = 1;
    }
  });
}

runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout,
  stderr,
  programName: invokedAs === 'notation' ? 'notation' : 'vouch',
}).then(finish, (e: unknown) => {
  stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
  finish(1);
});
