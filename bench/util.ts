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
 * Median-of-runs throughput of several async operations whose runs are interleaved (A B C A B C
 * …), so that load from other processes on the machine affects each about equally and their
 * ratios stay meaningful. Each run lasts about `ms`.
 */
export async function measureInterleaved(
  ops: readonly (() => Promise<void>)[],
  { runs = 7, ms = 300 } = {},
): Promise<{ opsPerSec: number }[]> {
  for (const op of ops) for (let i = 0; i < 20; i++) await op(); // warm-up
  const rates: number[][] = ops.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (const [k, op] of ops.entries()) {
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < ms) {
        await op();
        n++;
      }
      rates[k]!.push((n * 1000) / (performance.now() - t0));
    }
  }
  return rates.map((r) => {
    r.sort((a, b) => a - b);
    return { opsPerSec: r[Math.floor(r.length / 2)]! };
  });
}
