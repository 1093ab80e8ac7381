/** A size-bounded LRU map (by entry count and by total bytes of the values' `weight`). */
export class BoundedCache<V> {
  private readonly map = new Map<string, { value: V; weight: number }>();
  private total = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight: number,
  ) {}

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  set(key: string, value: V, weight = 0): void {
    if (this.maxEntries <= 0 || weight > this.maxWeight / 4) return;
    const old = this.map.get(key);
    if (old) {
      this.total -= old.weight;
      this.map.delete(key);
    }
    this.map.set(key, { value, weight });
    this.total += weight;
    while (this.map.size > this.maxEntries || this.total > this.maxWeight) {
      const first = this.map.keys().next();
      if (first.done) break;
      const e = this.map.get(first.value)!;
      this.total -= e.weight;
      this.map.delete(first.value);
    }
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (e) {
      this.total -= e.weight;
      this.map.delete(key);
    }
  }

  get size(): number {
    return this.map.size;
  }

  get weight(): number {
    return this.total;
  }
}
