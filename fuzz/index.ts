/**
 * The fuzz campaign (`pnpm fuzz`): runs every target of ./targets.ts in turns, each turn a
 * fast-check run of fresh random inputs under a new seed, until the time budget is spent.
 * Prints one line per failure (with the seed and path that replay it), one line per target, and
 *   fuzz: N runs, F failures
 * Exits 1 when anything failed.
 *
 * Options: --seconds N (budget, default $FUZZ_SECONDS or 300), --target NAME (repeatable),
 * --seed S --path P (replay one counterexample of one target).
 */
import fc from 'fast-check';
import { type FuzzTarget, fuzzTargets, INPUT_TIME_LIMIT_MS } from './targets.js';

interface Args {
  seconds: number;
  targets: string[];
  seed?: number;
  path?: string;
}

function parseArgs(argv: readonly string[]): Args {
  const out: Args = { seconds: Number(process.env.FUZZ_SECONDS ?? 300), targets: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--seconds') out.seconds = Number(v());
    else if (a === '--target') out.targets.push(v());
    else if (a === '--seed') out.seed = Number(v());
    else if (a === '--path') out.path = v();
    else throw new Error(`unknown option ${a} (use --seconds N, --target NAME, --seed S --path P)`);
  }
  if (!Number.isFinite(out.seconds) || out.seconds <= 0) throw new Error('--seconds must be a positive number');
  return out;
}

function preview(v: unknown): string {
  if (v instanceof Uint8Array) {
    const text = new TextDecoder().decode(process.env.FUZZ_FULL ? v : v.subarray(0, 300));
    return `${v.length} bytes: ${JSON.stringify(text)}${v.length > 300 ? '…' : ''}`;
  }
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return `${JSON.stringify(s.slice(0, 300))}${s.length > 300 ? '…' : ''}`;
}

/** A target's check, failing inputs that take longer than INPUT_TIME_LIMIT_MS. */
function timed(t: FuzzTarget): (input: unknown) => Promise<void> {
  return async (input) => {
    const t0 = performance.now();
    await t.check(input);
    const ms = performance.now() - t0;
    if (ms > INPUT_TIME_LIMIT_MS) throw new Error(`one input took ${ms.toFixed(0)} ms (limit ${INPUT_TIME_LIMIT_MS} ms)`);
  };
}

const args = parseArgs(process.argv.slice(2));
const all = await fuzzTargets();
const unknown = args.targets.filter((n) => !all.some((t) => t.name === n));
if (unknown.length) throw new Error(`unknown target(s) ${unknown.join(', ')}; targets: ${all.map((t) => t.name).join(', ')}`);
const targets = args.targets.length ? all.filter((t) => args.targets.includes(t.name)) : all;
const stats = new Map(targets.map((t) => [t.name, { runs: 0, failures: 0, ms: 0 }]));
const report = (m: Record<string, unknown>) => process.send?.(m);

if (args.seed !== undefined) {
  // replay
  const t = targets[0]!;
  const d = await fc.check(fc.asyncProperty(t.arbitrary, timed(t)), {
    seed: args.seed,
    ...(args.path ? { path: args.path } : {}),
    numRuns: 1,
  });
  const s = stats.get(t.name)!;
  s.runs = d.numRuns;
  if (d.failed) {
    s.failures = 1;
    console.log(`fuzz FAIL ${t.name}: ${d.errorInstance instanceof Error ? d.errorInstance.message : String(d.errorInstance)}`);
    console.log(`  input: ${preview(d.counterexample?.[0])}`);
  }
} else {
  const deadline = performance.now() + args.seconds * 1000;
  const perTurnMs = Math.max(500, Math.min(10_000, (args.seconds * 1000) / (targets.length * 4)));
  const master = fc.sample(fc.integer(), { numRuns: 1 })[0]!;
  let turn = 0;
  while (performance.now() < deadline) {
    for (const t of targets) {
      if (performance.now() >= deadline) break;
      const s = stats.get(t.name)!;
      const seed = (master + turn * 7919 + targets.indexOf(t)) | 0;
      report({ target: t.name, seed });
      const t0 = performance.now();
      const d = await fc.check(fc.asyncProperty(t.arbitrary, timed(t)), {
        seed,
        numRuns: 1_000_000,
        interruptAfterTimeLimit: Math.min(perTurnMs, Math.max(100, deadline - performance.now())),
        markInterruptAsFailure: false,
      });
      s.ms += performance.now() - t0;
      s.runs += d.numRuns;
      if (d.failed) {
        s.failures++;
        const message = d.errorInstance instanceof Error ? d.errorInstance.message : String(d.errorInstance);
        console.log(`fuzz FAIL ${t.name}: ${message.split('\n')[0]}`);
        console.log(`  input: ${preview(d.counterexample?.[0])}`);
        console.log(`  replay: pnpm fuzz --target ${t.name} --seed ${d.seed} --path ${d.counterexamplePath}`);
      }
    }
    turn++;
  }
}

let runs = 0;
let failures = 0;
for (const [name, s] of stats) {
  runs += s.runs;
  failures += s.failures;
  console.log(`fuzz ${name}: ${s.runs} runs, ${s.failures} failures (${(s.ms / 1000).toFixed(1)} s)`);
}
console.log(`fuzz: ${runs} runs, ${failures} failures`);
process.exitCode = failures > 0 ? 1 : 0;
// anything a target left running (a timer, a child process) must not keep the campaign alive
setTimeout(() => process.exit(), 200).unref();
