import type { CrlCache, CrlCacheEntry } from './types.js';

/**
 * An in-memory {@link CrlCache} holding at most `maxEntries` CRL sets (least recently
 * used evicted first). Entries are only served while valid: `checkRevocation` re-validates
 * each one (signature, issuer, nextUpdate) before use. A file cache in notation's layout
 * lives in `@vouch/node`.
 */
export function memoryCrlCache(options: { maxEntries?: number } = {}): CrlCache {
  const max = options.maxEntries ?? 64;
  const map = new Map<string, CrlCacheEntry>();
  return {
    async get(url) {
      const e = map.get(url);
      if (e) {
        map.delete(url);
        map.set(url, e);
      }
      return e;
    },
    async set(url, entry) {
      map.delete(url);
      map.set(url, entry);
      while (map.size > max) map.delete(map.keys().next().value as string);
    },
  };
}
