/** Median-of-runs throughput of an async operation; each run lasts about `ms`. */
export async function measure(op: () => Promise<void>, { runs = 5, ms = 400 } = {}): Promise<{ opsPerSec: number }> {
  for (let i = 0; i < 20; i++) await op(); // warm-up (JIT, caches allowed by the benchmark)
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      await op();
      n++;
    }
    rates.push((n * 1000) / (performance.now() - t0));
  }
  rates.sort((a, b) => a - b);
  return { opsPerSec: rates[Math.floor(rates.length / 2)]! };
}

/** Print one figure as `bench NAME: VALUE (details)`. */
export function emit(name: string, value: number, details: string): void {
  const v = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 3 : 1);
  console.log(`bench ${name}: ${v} (${details})`);
}

/**
 * Throughput of several async operations measured in interleaved rounds (A B C, A B C, …):
 * each round gives every operation a slice of about `ms`, so load from other processes on the
 * machine hits all of them about equally, and a ratio taken within a round compares like with
 * like. Returns, per operation and round, the rate (operations per second of wall time) and the
 * process CPU time per operation in microseconds (all threads: it counts work, not waiting).
 */
export async function measureRounds(
  ops: readonly (() => Promise<void>)[],
  { rounds = 41, ms = 50 } = {},
): Promise<{ rate: number[]; cpuMicros: number[] }[]> {
  for (const op of ops) for (let i = 0; i < 20; i++) await op(); // warm-up
  const out = ops.map(() => ({ rate: [] as number[], cpuMicros: [] as number[] }));
  for (let r = 0; r < rounds; r++) {
    for (const [k, op] of ops.entries()) {
      let n = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      let t = t0;
      while (t - t0 < ms) {
        await op();
        n++;
        t = performance.now();
      }
      const c = process.cpuUsage(c0);
      out[k]!.rate.push((n * 1000) / (t - t0));
      out[k]!.cpuMicros.push((c.user + c.system) / n);
    }
  }
  return out;
}

/** The median of a list of numbers. */
export function median(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** Runs `fn` over `items` with at most `n` at once. */
export async function pool<T>(items: readonly T[], n: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}
