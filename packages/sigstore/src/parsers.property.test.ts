/**
 * Property tests of every parser of @vouch/sigstore: on arbitrary input each one either returns
 * or throws a VouchError of its own code (never a TypeError or a RangeError), and what the test
 * Sigstore stack writes parses back to what it wrote.
 */

import { isVouchError, utf8, type VouchErrorCode } from '@vouch/core';
import { concatBytes, toBase64 } from '@vouch/core/internal';
import {
  auditPath,
  createTestSigstore,
  generateEcdsa,
  merkleRoot,
  messageBundle,
  sctListExtension,
  signNote,
  type TestSigstore,
} from '@vouch/testing/sigstore';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSctList } from './cert/sct.js';
import { parseDsseEnvelope, parseInTotoStatement, preAuthEncoding } from './dsse.js';
import { parseBundle, parseRekorBundle, parseTrustedRoot } from './index.js';
import { readBody } from './tlog/body.js';
import { parseCheckpoint } from './tlog/checkpoint.js';
import { leafHash, rootFromInclusionProof } from './tlog/merkle.js';
import { setPayload } from './tlog/set.js';

const RUNS = { numRuns: 300 };

/** Run `f`; it must return or throw a VouchError with one of `codes`. */
function onlyThrows(codes: readonly VouchErrorCode[], f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!isVouchError(e)) throw new Error(`threw a non-VouchError: ${String(e)}`);
    if (!codes.includes(e.code)) throw new Error(`threw ${e.code}: ${e.message}`);
  }
}

const jsonish = fc.oneof(fc.jsonValue(), fc.string(), fc.uint8Array({ maxLength: 64 }));

/** Every path to a value in a JSON tree. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof v !== 'object' || v === null) return [prefix];
  const out: (string | number)[][] = [prefix];
  for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, Array.isArray(v) ? Number(k) : k]));
  return out;
}

function mutate(doc: unknown, path: (string | number)[], value: unknown, remove: boolean): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  if (path.length === 0) return value;
  let o: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove && !Array.isArray(o)) delete o[last];
  else o[last] = value;
  return copy;
}

let stack: TestSigstore;
let bundle: Record<string, unknown>;
beforeAll(async () => {
  stack = await createTestSigstore();
  const signer = await stack.fulcio.issue({ subject: 'me@example.com', issuer: 'https://accounts.example' });
  bundle = await messageBundle(stack, utf8('artifact'), signer, { version: '0.2' });
});

describe('parseBundle', () => {
  it('throws only ERR_BUNDLE_INVALID on arbitrary input', () => {
    fc.assert(
      fc.property(jsonish, (v) => onlyThrows(['ERR_BUNDLE_INVALID', 'ERR_INVALID_ARGUMENT'], () => parseBundle(v as object))),
      RUNS,
    );
  });

  it('a bundle with any one field removed or replaced parses or throws a VouchError (bundle or certificate)', () => {
    const all = paths(bundle);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.jsonValue(), fc.boolean(), (i, value, remove) => {
        onlyThrows(['ERR_BUNDLE_INVALID', 'ERR_CERT_INVALID', 'ERR_INVALID_ARGUMENT'], () =>
          parseBundle(mutate(bundle, all[i]!, value, remove) as object),
        );
      }),
      RUNS,
    );
  });

  it('the stack bundle parses with its fields', () => {
    const b = parseBundle(JSON.stringify(bundle));
    expect(b.version).toBe('0.2');
    expect(b.tlogEntries[0]!.inclusionProof?.checkpoint).toMatch(/^rekor\.test - /);
  });
});

describe('DSSE and in-toto', () => {
  it('PAE is the DSSE spec example', () => {
    expect(new TextDecoder().decode(preAuthEncoding('http://example.com/HelloWorld', utf8('hello world')))).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
    // lengths count UTF-8 bytes
    expect(new TextDecoder().decode(preAuthEncoding('é', utf8('€')))).toBe('DSSEv1 2 é 3 €');
  });

  it('envelopes round-trip and arbitrary input throws only ERR_BUNDLE_INVALID', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.uint8Array(),
        fc.array(fc.uint8Array({ minLength: 1 }), { minLength: 1, maxLength: 3 }),
        (type, payload, sigs) => {
          const env = parseDsseEnvelope({
            payloadType: type,
            payload: toBase64(payload),
            signatures: sigs.map((s) => ({ sig: toBase64(s) })),
          });
          expect(env.payloadType).toBe(type);
          expect(env.payload).toEqual(payload);
          expect(env.signatures.map((s) => s.sig)).toEqual(sigs);
        },
      ),
      RUNS,
    );
    fc.assert(
      fc.property(jsonish, (v) => onlyThrows(['ERR_BUNDLE_INVALID', 'ERR_INVALID_ARGUMENT'], () => parseDsseEnvelope(v as object))),
      RUNS,
    );
  });

  it('in-toto statements: arbitrary payloads throw only ERR_ARTIFACT_MISMATCH', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((j) => JSON.stringify(j)),
        ),
        (s) => onlyThrows(['ERR_ARTIFACT_MISMATCH'], () => parseInTotoStatement(s)),
      ),
      RUNS,
    );
    const st = parseInTotoStatement(
      JSON.stringify({
        _type: 'https://in-toto.io/Statement/v0.1',
        subject: [{ name: 'x', digest: { sha256: 'ab' } }],
        predicateType: 'p',
        predicate: { a: 1 },
      }),
    );
    expect(st).toEqual({
      type: 'https://in-toto.io/Statement/v0.1',
      subject: [{ name: 'x', digest: { sha256: 'ab' } }],
      predicateType: 'p',
      predicate: { a: 1 },
    });
  });
});

describe('Merkle inclusion proofs (RFC 9162 §2.1.3.2)', () => {
  it('every audit path of every tree leads to the root, and any change breaks it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), fc.nat(), (size, i, flip) => {
        const leaves = Array.from({ length: size }, (_, k) => leafHash(utf8(`entry ${k}`)));
        const index = i % size;
        const proof = auditPath(index, leaves);
        const root = merkleRoot(leaves);
        expect(rootFromInclusionProof(index, size, leaves[index]!, proof)).toEqual(root);
        if (proof.length > 0) {
          const bad = proof.map((h) => h.slice());
          bad[flip % bad.length]![flip % 32]! ^= 1;
          expect(rootFromInclusionProof(index, size, leaves[index]!, bad)).not.toEqual(root);
          expect(typeof rootFromInclusionProof(index, size, leaves[index]!, proof.slice(1))).toBe('string');
        }
        expect(typeof rootFromInclusionProof(index, size, leaves[index]!, [...proof, root])).toBe('string');
        expect(typeof rootFromInclusionProof(size, size, leaves[index]!, proof)).toBe('string');
        if (size > 1) expect(rootFromInclusionProof((index + 1) % size, size, leaves[index]!, proof)).not.toEqual(root);
      }),
      { numRuns: 200 },
    );
  });
});

describe('checkpoints (signed notes)', () => {
  it('what a log writes parses back; arbitrary text throws only ERR_TLOG_INVALID', async () => {
    const pair = await generateEcdsa();
    const samples = fc.sample(
      fc.record({
        origin: fc.stringMatching(/^[a-z0-9.:-]{1,30}( - [0-9]{1,19})?$/),
        size: fc.nat(),
        root: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        ext: fc.array(fc.stringMatching(/^[A-Za-z]{1,10}: [0-9]{1,10}$/), { maxLength: 2 }),
      }),
      25,
    );
    for (const s of samples) {
      const text = `${s.origin}\n${s.size}\n${toBase64(s.root)}\n${s.ext.map((l) => `${l}\n`).join('')}`;
      const note = await signNote(text, 'log.test', new Uint8Array([1, 2, 3, 4]), pair.privateKey);
      const cp = parseCheckpoint(note);
      expect([cp.origin, cp.treeSize, cp.rootHash, cp.extensions]).toEqual([s.origin, s.size, s.root, s.ext]);
      expect(new TextDecoder().decode(cp.body)).toBe(text);
      expect(cp.signatures[0]!.name).toBe('log.test');
      expect([...cp.signatures[0]!.keyHint]).toEqual([1, 2, 3, 4]);
    }
    fc.assert(
      fc.property(fc.string(), (s) => onlyThrows(['ERR_TLOG_INVALID'], () => parseCheckpoint(s))),
      RUNS,
    );
    const good = await signNote('o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n', 'n', new Uint8Array(4), pair.privateKey);
    fc.assert(
      fc.property(fc.nat(), fc.string({ maxLength: 3 }), (at, insert) => {
        const i = at % good.length;
        onlyThrows(['ERR_TLOG_INVALID'], () => parseCheckpoint(good.slice(0, i) + insert + good.slice(i + 1)));
      }),
      RUNS,
    );
  });
});

describe('SCT lists (RFC 6962 §3.3)', () => {
  it('lists round-trip and arbitrary bytes throw only ERR_SCT_INVALID', () => {
    const sct = fc
      .record({
        logId: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        ts: fc.nat(),
        ext: fc.uint8Array({ maxLength: 8 }),
        sig: fc.uint8Array({ minLength: 1, maxLength: 80 }),
      })
      .map((s) => ({
        ...s,
        bytes: concatBytes(
          new Uint8Array([0]),
          s.logId,
          u64(s.ts),
          u16(s.ext.length),
          s.ext,
          new Uint8Array([4, 3]),
          u16(s.sig.length),
          s.sig,
        ),
      }));
    fc.assert(
      fc.property(fc.array(sct, { minLength: 1, maxLength: 4 }), (list) => {
        const ext = sctListExtension(list.map((s) => s.bytes));
        const parsed = parseSctList(ext.subarray(ext[1]! & 0x80 ? 2 + (ext[1]! & 0x7f) : 2));
        expect(parsed.map((p) => [p.logId, p.timestamp, p.extensions, p.signature])).toEqual(
          list.map((s) => [s.logId, s.ts, s.ext, s.sig]),
        );
      }),
      RUNS,
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => onlyThrows(['ERR_SCT_INVALID'], () => parseSctList(b))),
      RUNS,
    );
  });
});

function u16(n: number): Uint8Array {
  return new Uint8Array([n >> 8, n & 0xff]);
}
function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  let v = n;
  for (let i = 7; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

describe('Rekor bodies, SETs and cosign Rekor bundles', () => {
  it('arbitrary bodies throw only ERR_TLOG_INVALID or ERR_UNSUPPORTED', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.constantFrom('hashedrekord', 'dsse', 'intoto'),
        fc.constantFrom('0.0.1', '0.0.2'),
        (j, kind, version) => {
          const body = utf8(JSON.stringify(typeof j === 'object' && j !== null ? { kind, apiVersion: version, ...j } : j));
          onlyThrows(['ERR_TLOG_INVALID', 'ERR_UNSUPPORTED'], () => readBody({ canonicalizedBody: body, kind, version }));
        },
      ),
      RUNS,
    );
    const body = JSON.parse(
      atob((bundle.verificationMaterial as { tlogEntries: { canonicalizedBody: string }[] }).tlogEntries[0]!.canonicalizedBody),
    );
    const all = paths(body);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.jsonValue(), fc.boolean(), (i, v, remove) => {
        const b = utf8(JSON.stringify(mutate(body, all[i]!, v, remove)));
        onlyThrows(['ERR_TLOG_INVALID', 'ERR_UNSUPPORTED'], () =>
          readBody({ canonicalizedBody: b, kind: 'hashedrekord', version: '0.0.1' }),
        );
      }),
      RUNS,
    );
  });

  it('the SET payload is RFC 8785 canonical JSON (sorted keys, no spaces)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.nat(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.nat(),
        (body, t, id, index) => {
          const payload = new TextDecoder().decode(setPayload({ canonicalizedBody: body, integratedTime: t, logId: id, logIndex: index }));
          const obj = {
            logIndex: index,
            logID: [...id].map((x) => x.toString(16).padStart(2, '0')).join(''),
            integratedTime: t,
            body: toBase64(body),
          };
          const sorted = Object.fromEntries(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : 1)));
          expect(payload).toBe(JSON.stringify(sorted));
        },
      ),
      RUNS,
    );
  });

  it('cosign Rekor bundles: arbitrary input throws only ERR_TLOG_INVALID', () => {
    fc.assert(
      fc.property(jsonish, (v) => onlyThrows(['ERR_TLOG_INVALID', 'ERR_INVALID_ARGUMENT'], () => parseRekorBundle(v as never))),
      RUNS,
    );
  });
});

describe('trusted roots', () => {
  it('the stack root parses; any one field removed or replaced parses or throws ERR_CONFIG_INVALID', () => {
    const doc = stack.trustedRoot();
    expect(parseTrustedRoot(doc).tlogs).toHaveLength(2);
    const all = paths(doc);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.jsonValue(), fc.boolean(), (i, v, remove) => {
        onlyThrows(['ERR_CONFIG_INVALID', 'ERR_INVALID_ARGUMENT'], () => parseTrustedRoot(mutate(doc, all[i]!, v, remove) as object));
      }),
      RUNS,
    );
  });
});
