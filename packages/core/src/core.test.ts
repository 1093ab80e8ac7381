import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromBase64Url, fromHex, toBase64, toBase64Url, toHex } from './bytes.js';
import { digestStream, verifyDigest } from './digest.js';
import { decodePem, digestOf, encodePem, formatReference, parseDigest, parseReference, utf8, VouchError } from './index.js';
import { splitArtifactReference } from './reference.js';
import { streamChunks } from './stream.js';

describe('bytes', () => {
  it('round-trips base64, base64url and hex for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        expect(fromBase64(toBase64(b))).toEqual(b);
        expect(fromBase64Url(toBase64Url(b))).toEqual(b);
        expect(fromHex(toHex(b))).toEqual(b);
      }),
    );
  });
  it('matches known encodings', () => {
    expect(toBase64(utf8('{}'))).toBe('e30=');
    expect(toBase64Url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
  });
  it('rejects bad base64 with ERR_MALFORMED_INPUT, never another exception', () => {
    expect(() => fromBase64Url('ab+c')).toThrowWithCode('ERR_MALFORMED_INPUT');
    expect(() => fromBase64('abc')).toThrowWithCode('ERR_MALFORMED_INPUT');
    expect(() => fromBase64Url('a')).toThrowWithCode('ERR_MALFORMED_INPUT');
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          fromBase64Url(s);
          fromBase64(s);
        } catch (e) {
          expect(e).toBeInstanceOf(VouchError);
        }
      }),
    );
  });
});

describe('digest', () => {
  it('computes the empty-JSON config digest', () => {
    expect(digestOf(utf8('{}'))).toBe('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });
  it('validates digest syntax', () => {
    expect(parseDigest(`sha384:${'a'.repeat(96)}`).algorithm).toBe('sha384');
    expect(() => parseDigest('md5:abc')).toThrowWithCode('ERR_INVALID_DIGEST');
    expect(() => parseDigest(`sha256:${'A'.repeat(64)}`)).toThrowWithCode('ERR_INVALID_DIGEST');
    expect(() => verifyDigest(utf8('x'), digestOf(utf8('y')))).toThrowWithCode('ERR_DIGEST_MISMATCH');
  });
});

describe('pem', () => {
  it('round-trips several blocks', () => {
    const text = encodePem('CERTIFICATE', new Uint8Array([1, 2, 3])) + encodePem('CERTIFICATE', new Uint8Array([4]));
    expect(decodePem(text).map((b) => [...b.der])).toEqual([[1, 2, 3], [4]]);
  });
});

describe('reference', () => {
  const d = `sha256:${'0'.repeat(64)}`;
  it('parses notation-style references', () => {
    expect(parseReference(`localhost:5000/net-monitor@${d}`)).toEqual({ registry: 'localhost:5000', repository: 'net-monitor', digest: d });
    expect(parseReference('registry.io/a/b:v1')).toEqual({ registry: 'registry.io', repository: 'a/b', tag: 'v1' });
    expect(formatReference(parseReference(`r.io/a:t@${d}`))).toBe(`r.io/a:t@${d}`);
  });
  it('normalizes like docker when asked', () => {
    expect(parseReference('nginx', { normalize: true })).toEqual({ registry: 'docker.io', repository: 'library/nginx' });
    expect(parseReference('org/app:1', { normalize: true })).toEqual({ registry: 'docker.io', repository: 'org/app', tag: '1' });
    expect(parseReference('ghcr.io/x/y', { normalize: true }).registry).toBe('ghcr.io');
  });
  it('rejects malformed references with ERR_INVALID_REFERENCE', () => {
    for (const bad of ['', 'nginx', 'r.io/UPPER', 'r.io/a@sha256:zz', 'r.io/a:', 'r.io//a', 'r.io/a b']) {
      expect(() => parseReference(bad), bad).toThrowWithCode('ERR_INVALID_REFERENCE');
    }
    fc.assert(
      fc.property(fc.string(), (s) => {
        const parse = () => parseReference(s, { normalize: true });
        try {
          parse();
        } catch {
          expect(parse).toThrowWithCode('ERR_INVALID_REFERENCE');
        }
      }),
    );
  });
});

describe('splitArtifactReference (the one splitter of sign, verify and the registry client)', () => {
  const D = `sha256:${'a'.repeat(64)}`;
  it('splits a full reference into the reference and what to resolve (the digest first)', () => {
    expect(splitArtifactReference(`localhost:5000/app:v1@${D}`)).toEqual({
      reference: { registry: 'localhost:5000', repository: 'app', tag: 'v1', digest: D },
      target: D,
      digest: D,
      tag: 'v1',
    });
    expect(splitArtifactReference('registry.example/org/app:v1')).toEqual({
      reference: { registry: 'registry.example', repository: 'org/app', tag: 'v1' },
      target: 'v1',
      tag: 'v1',
    });
    expect(splitArtifactReference('nginx/app:1', { normalize: true }).reference).toEqual({
      registry: 'docker.io',
      repository: 'nginx/app',
      tag: '1',
    });
  });

  it('takes a bare tag or digest (with an optional @) inside a repository the caller holds', () => {
    expect(splitArtifactReference('v1')).toEqual({ target: 'v1', tag: 'v1' });
    expect(splitArtifactReference(D)).toEqual({ target: D, digest: D });
    expect(splitArtifactReference(`@${D}`)).toEqual({ target: D, digest: D });
  });

  it('rejects what names nothing to resolve', () => {
    expect(() => splitArtifactReference('')).toThrowWithCode('ERR_INVALID_REFERENCE');
    expect(() => splitArtifactReference('registry.example/app')).toThrowWithCode('ERR_INVALID_REFERENCE');
    expect(() => splitArtifactReference('-bad')).toThrowWithCode('ERR_INVALID_REFERENCE');
    expect(() => splitArtifactReference('sha256:abc')).toThrowWithCode('ERR_INVALID_DIGEST');
    expect(() => splitArtifactReference('Registry.example/App:v1')).toThrowWithCode('ERR_INVALID_REFERENCE');
  });
});

describe('streamChunks (the one stream reader)', () => {
  const parts = [utf8('ab'), utf8('cd')];
  async function collect(it: AsyncIterable<Uint8Array>): Promise<string> {
    let s = '';
    for await (const c of it) s += new TextDecoder().decode(c);
    return s;
  }
  it('reads async iterables, ReadableStreams and reader-only streams, releasing the reader lock', async () => {
    async function* gen() {
      yield* parts;
    }
    expect(await collect(streamChunks(gen()))).toBe('abcd');
    expect(await collect(streamChunks(new Blob(parts as BlobPart[]).stream()))).toBe('abcd');
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(p);
        c.close();
      },
    });
    // a browser stream without async iteration is read through its reader
    const readerOnly = { getReader: () => stream.getReader() } as unknown as ReadableStream<Uint8Array>;
    expect(await collect(streamChunks(readerOnly))).toBe('abcd');
    expect(stream.locked).toBe(false);
    expect(await digestStream(new Blob(parts as BlobPart[]).stream())).toEqual({ digest: digestOf(utf8('abcd')), size: 4 });
  });

  it('rejects anything else with ERR_INVALID_ARGUMENT', () => {
    expect(() => streamChunks(utf8('x') as unknown as AsyncIterable<Uint8Array>)).toThrowWithCode('ERR_INVALID_ARGUMENT');
    expect(() => streamChunks(null as unknown as AsyncIterable<Uint8Array>)).toThrowWithCode('ERR_INVALID_ARGUMENT');
  });
});
