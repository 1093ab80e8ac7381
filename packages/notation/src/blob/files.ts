/**
 * Detached signature files of blobs, named as notation names them: `<blob file name>.<format>.sig`.
 * The CLI's `blob` verbs use these helpers.
 */
import { VouchError } from '@vouch/core';
import type { EnvelopeMediaTypeName } from '@vouch/envelope';

/** Envelope format of a detached signature file (`<blob>.<format>.sig`). */
export type SignatureFormat = 'jws' | 'cose';

/** Envelope media type of each signature format. */
export const SIGNATURE_FORMAT_MEDIA_TYPES: Readonly<Record<SignatureFormat, EnvelopeMediaTypeName>> = Object.freeze({
  jws: 'application/jose+json',
  cose: 'application/cose',
});

function baseName(path: string): string {
  const parts = path.split(/[/\\]/);
  return parts[parts.length - 1] ?? '';
}

/**
 * The detached signature file name notation writes for a blob: `<blob file name>.<format>.sig`
 * (e.g. `app.tar.gz` → `app.tar.gz.jws.sig`). Only the base name of `blobPath` is used: join
 * the result with the signature directory (notation's `--signature-directory`).
 *
 * @throws VouchError ERR_INVALID_ARGUMENT for an empty base name or an unknown format.
 */
export function signatureFileName(blobPath: string, format: SignatureFormat): string {
  if (format !== 'jws' && format !== 'cose') {
    throw new VouchError('ERR_INVALID_ARGUMENT', `signature format must be "jws" or "cose", got ${JSON.stringify(format)}`);
  }
  const name = typeof blobPath === 'string' ? baseName(blobPath) : '';
  if (name === '' || name === '.' || name === '..') {
    throw new VouchError('ERR_INVALID_ARGUMENT', `cannot derive a signature file name from blob path ${JSON.stringify(blobPath)}`);
  }
  return `${name}.${format}.sig`;
}

/**
 * The envelope format of a detached signature file, as notation derives it: the base name
 * must end in `.sig` and have at least three dot-separated segments; the second-to-last one
 * is the format (`jws` or `cose`). Both checks are case-insensitive. Messages are notation's.
 *
 * @throws VouchError ERR_INVALID_ARGUMENT for a name without `.sig` or without a format
 *   segment; ERR_ENVELOPE_UNSUPPORTED for an unknown format.
 */
export function formatFromSignatureFileName(path: string): SignatureFormat {
  const name = typeof path === 'string' ? baseName(path) : '';
  const parts = name.split('.');
  if (parts.length < 2 || parts[parts.length - 1]!.toLowerCase() !== 'sig') {
    throw new VouchError('ERR_INVALID_ARGUMENT', `invalid signature filename ${name}. The file extension must be .sig`);
  }
  if (parts.length < 3) {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      `invalid signature filename ${name}. A valid signature file name must contain signature format and .sig file extension`,
    );
  }
  const given = parts[parts.length - 2]!;
  const format = given.toLowerCase();
  if (format !== 'jws' && format !== 'cose') {
    throw new VouchError(
      'ERR_ENVELOPE_UNSUPPORTED',
      `signature format "${given}" not supported\nSupported signature envelope formats are "jws" and "cose"`,
      { details: { format: given } },
    );
  }
  return format;
}
