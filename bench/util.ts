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

/**
 * Counts the WebCrypto `verify`, `digest` and `importKey` calls made while `op` runs once (a
 * regression — an extra import or digest — shows in a benchmark's details).
 */
export async function countWebCrypto(op: () => Promise<void>): Promise<Map<string, number>> {
  const subtle = globalThis.crypto.subtle as unknown as Record<string, (...a: unknown[]) => unknown>;
  const names = ['verify', 'digest', 'importKey'];
  const counts = new Map<string, number>(names.map((n) => [n, 0]));
  for (const n of names) {
    const orig = subtle[n]!.bind(subtle);
    subtle[n] = (...a: unknown[]) => {
      counts.set(n, counts.get(n)! + 1);
      return orig(...a);
    };
  }
  try {
    await op();
  } finally {
    for (const n of names) delete subtle[n];
  }
  return counts;
}

/** One raw WebCrypto signature check of a baseline. */
export interface RawCheck {
  params: AlgorithmIdentifier | RsaPssParams | EcdsaParams;
  key: CryptoKey;
  signature: Uint8Array<ArrayBuffer>;
  data: Uint8Array<ArrayBuffer>;
}

/**
 * The `*-vs-crypto` method: `op` against the raw WebCrypto `checks` it cannot avoid, run
 * sequentially and concurrently (the faster is the denominator, so concurrency cannot flatter
 * the ratio), in interleaved rounds; prints the median of the per-round ratios with `details`.
 */
export async function emitVsRawChecks(name: string, op: () => Promise<void>, checks: readonly RawCheck[], details: string): Promise<void> {
  const subtle = globalThis.crypto.subtle;
  const sequential = async () => {
    for (const c of checks) if (!(await subtle.verify(c.params, c.key, c.signature, c.data))) throw new Error('baseline verify failed');
  };
  const concurrent = async () => {
    const ok = await Promise.all(checks.map((c) => subtle.verify(c.params, c.key, c.signature, c.data)));
    if (ok.includes(false)) throw new Error('baseline verify failed');
  };
  await sequential();
  const [ours, seq, par] = await measureRounds([op, sequential, concurrent]);
  // Per round: our rate / the faster baseline of that round; the figure is the median.
  const ratios = ours!.rate.map((v, r) => v / Math.max(seq!.rate[r]!, par!.rate[r]!));
  const [o, sq, pr] = [median(ours!.rate), median(seq!.rate), median(par!.rate)];
  // CPU time per operation (less sensitive to other processes than wall time): the cheaper baseline.
  const cpuOurs = median(ours!.cpuMicros);
  const cpuBase = Math.min(median(seq!.cpuMicros), median(par!.cpuMicros));
  emit(
    name,
    median(ratios),
    `median of ${ratios.length} interleaved rounds; ${o.toFixed(0)} verify/s vs ${Math.max(sq, pr).toFixed(0)} raw/s (the ${checks.length} signature checks: ${sq.toFixed(0)}/s sequential, ${pr.toFixed(0)}/s concurrent); CPU ${cpuOurs.toFixed(0)} µs/verify vs ${cpuBase.toFixed(0)} µs/raw set (ratio ${(cpuBase / cpuOurs).toFixed(2)}); ${details}; target >= 0.5`,
  );
}
