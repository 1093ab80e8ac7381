import { Annotation, digestOf, MediaType, utf8 } from '@vouch/core';
import { EMPTY_JSON, fromUtf8 } from '@vouch/core/internal';
import { describe, expect, it } from 'vitest';
import {
  acceptReferrer,
  buildSignatureManifest,
  goJson,
  parseSignatureManifest,
  parseThumbprintAnnotation,
  summarizeManifest,
  thumbprintAnnotation,
} from './manifest.js';

const subject = {
  mediaType: MediaType.OCI_MANIFEST,
  digest: 'sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0',
  size: 481,
};
const envelope = {
  mediaType: MediaType.JWS,
  digest: 'sha256:586c5e0f341d7d07e835a06b7c9f21c21fff4f4a85933079e5859f99ba0ad02d',
  size: 2078,
};
const annotations = {
  'org.opencontainers.image.created': '2023-03-14T08:10:02Z',
  'io.cncf.notary.x509chain.thumbprint#S256': '["9f5f5aecee24b5cfdc7a91f6d5ac5c3a5348feb17c934d403f59ac251549ea0d"]',
};

describe('buildSignatureManifest', () => {
  it('writes the current form byte-identical to notation (digest asserted upstream)', () => {
    const built = buildSignatureManifest({ subject: { ...subject, annotations: { x: 'y' } }, envelopeDescriptor: envelope, annotations });
    expect(built.descriptor.digest).toBe('sha256:64300ad03f1dcd18136787363f3069c9598623221cbe76e3233d35266b7973d6');
    expect(built.descriptor.size).toBe(793);
    expect(built.descriptor.artifactType).toBe(MediaType.NOTARY_SIGNATURE);
    expect(built.descriptor.annotations).toEqual(annotations);
    const m = JSON.parse(fromUtf8(built.bytes));
    expect(m.config).toEqual({ mediaType: MediaType.OCI_EMPTY, digest: EMPTY_JSON.digest, size: 2, data: 'e30=' });
    expect(m.subject).toEqual(subject);
  });

  it('writes the legacy form that parses back as legacy', () => {
    const built = buildSignatureManifest({ subject, envelopeDescriptor: envelope, annotations, form: 'legacy' });
    expect(built.manifest.artifactType).toBeUndefined();
    expect(built.manifest.config.mediaType).toBe(MediaType.NOTARY_SIGNATURE);
    const parsed = parseSignatureManifest(built.bytes, MediaType.OCI_MANIFEST);
    expect(parsed.form).toBe('legacy');
    expect(parsed.envelope).toEqual(envelope);
  });

  it('rejects an envelope that is neither JWS nor COSE', () => {
    expect(() =>
      buildSignatureManifest({ subject, envelopeDescriptor: { ...envelope, mediaType: 'text/plain' }, annotations }),
    ).toThrowWithCode('ERR_ENVELOPE_UNSUPPORTED');
  });

  it('escapes HTML characters like Go', () => {
    expect(goJson({ a: '<&>' })).toBe('{"a":"\\u003c\\u0026\\u003e"}');
  });
});

describe('parseSignatureManifest', () => {
  const current = buildSignatureManifest({ subject, envelopeDescriptor: envelope, annotations });
  const base = JSON.parse(fromUtf8(current.bytes));
  const enc = (o: unknown) => utf8(JSON.stringify(o));

  it('reads the current form', () => {
    const p = parseSignatureManifest(current.bytes, MediaType.OCI_MANIFEST);
    expect(p.form).toBe('current');
    expect(p.envelope).toEqual(envelope);
    expect(p.subject).toEqual(subject);
    expect(p.annotations[Annotation.THUMBPRINT_S256]).toBe(annotations['io.cncf.notary.x509chain.thumbprint#S256']);
  });

  it('reads the old artifact-manifest form (blobs)', () => {
    const art = {
      mediaType: MediaType.OCI_ARTIFACT_MANIFEST,
      artifactType: MediaType.NOTARY_SIGNATURE,
      blobs: [{ ...envelope, mediaType: MediaType.COSE }],
      subject,
      annotations,
    };
    const p = parseSignatureManifest(enc(art));
    expect(p.form).toBe('artifact');
    expect(p.envelope.mediaType).toBe(MediaType.COSE);
  });

  it.each([
    ['two layers', { ...base, layers: [envelope, envelope] }, 'ERR_MALFORMED_INPUT'],
    ['no layers', { ...base, layers: [] }, 'ERR_MALFORMED_INPUT'],
    ['other artifactType', { ...base, artifactType: 'application/vnd.example' }, 'ERR_MALFORMED_INPUT'],
    [
      'artifactType with non-empty config',
      { ...base, config: { ...base.config, mediaType: MediaType.NOTARY_SIGNATURE } },
      'ERR_MALFORMED_INPUT',
    ],
    [
      'no artifactType and an image config',
      { ...base, artifactType: undefined, config: { ...base.config, mediaType: MediaType.OCI_CONFIG } },
      'ERR_MALFORMED_INPUT',
    ],
    ['unknown envelope type', { ...base, layers: [{ ...envelope, mediaType: 'application/json' }] }, 'ERR_ENVELOPE_UNSUPPORTED'],
    ['index media type', { ...base, mediaType: MediaType.OCI_INDEX }, 'ERR_MALFORMED_INPUT'],
    ['bad layer digest', { ...base, layers: [{ ...envelope, digest: 'sha256:zz' }] }, 'ERR_MALFORMED_INPUT'],
  ] as const)('rejects %s', (_name, doc, code) => {
    expect(() => parseSignatureManifest(enc(doc))).toThrowWithCode(code);
  });

  it('rejects a body whose mediaType differs from the descriptor', () => {
    expect(() => parseSignatureManifest(current.bytes, MediaType.OCI_ARTIFACT_MANIFEST)).toThrowWithCode('ERR_MALFORMED_INPUT');
  });

  it('rejects non-JSON', () => {
    expect(() => parseSignatureManifest(utf8('{'))).toThrowWithCode('ERR_MALFORMED_INPUT');
    expect(() => parseSignatureManifest(new Uint8Array([0xff, 0xfe]))).toThrowWithCode('ERR_MALFORMED_INPUT');
  });
});

describe('thumbprints', () => {
  it('hashes each certificate, lowercase hex, in order', () => {
    const a = utf8('cert-a');
    const b = utf8('cert-b');
    const v = thumbprintAnnotation([a, b]);
    expect(JSON.parse(v)).toEqual([digestOf(a).slice(7), digestOf(b).slice(7)]);
    expect(parseThumbprintAnnotation(v.toUpperCase())).toEqual(JSON.parse(v));
    expect(parseThumbprintAnnotation('not json')).toBeUndefined();
    expect(parseThumbprintAnnotation('["abc"]')).toBeUndefined();
  });
});

describe('acceptReferrer (notation store filter)', () => {
  const limit = 4 * 1024 * 1024;
  const built = buildSignatureManifest({ subject, envelopeDescriptor: envelope, annotations });
  const legacy = buildSignatureManifest({ subject, envelopeDescriptor: envelope, annotations, form: 'legacy' });
  const s = summarizeManifest(built.bytes);
  it('keeps both Notary forms for the Notary artifact type', () => {
    expect(acceptReferrer(built.descriptor, s, subject, MediaType.NOTARY_SIGNATURE, limit)).toBeUndefined();
    expect(acceptReferrer(legacy.descriptor, summarizeManifest(legacy.bytes), subject, MediaType.NOTARY_SIGNATURE, limit)).toBeUndefined();
  });
  it('drops wrong subject, oversize, other types, and artifactType with a non-empty config', () => {
    expect(acceptReferrer(built.descriptor, s, { ...subject, size: 1 }, undefined, limit)).toBe('subject-mismatch');
    expect(acceptReferrer({ ...built.descriptor, size: limit + 1 }, s, subject, undefined, limit)).toBe('too-large');
    expect(acceptReferrer(built.descriptor, s, subject, 'application/vnd.example.sbom', limit)).toBe('artifact-type');
    expect(
      acceptReferrer(built.descriptor, { ...s, configMediaType: MediaType.OCI_CONFIG }, subject, MediaType.NOTARY_SIGNATURE, limit),
    ).toBe('notary-non-empty-config');
  });
});
