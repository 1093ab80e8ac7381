/**
 * Small helpers of the `vouch blob` verbs: notation's flag parsing and wording, signature
 * file names, and the overwrite confirmation prompt.
 */
import { VouchError } from '@vouch/core';
import { formatFromSignatureFileName, SIGNATURE_FORMAT_MEDIA_TYPES, type SignatureFormat } from '@vouch/notation';
import type { Command } from 'commander';
import { type CliContext, UsageError } from '../context.js';

/** Options as commander hands them over. */
export type BlobOpts = Record<string, unknown>;

/**
 * Parse repeatable `KEY=VALUE` flags (`--user-metadata`, `--plugin-config`) with notation's
 * wording: `could not parse flag <name>: key-value pair requires "=" as separator`. Keys must
 * be unique and non-empty; values must be non-empty. Returns undefined when none were given.
 */
export function parseFlagMap(pairs: readonly string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new UsageError(`could not parse flag ${flag}: key-value pair requires "=" as separator`);
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (key === '') throw new UsageError(`could not parse flag ${flag}: key-value pair "${pair}" has an empty key`);
    if (value === '') throw new UsageError(`could not parse flag ${flag}: key-value pair "${pair}" has an empty value`);
    if (Object.hasOwn(out, key)) throw new UsageError(`could not parse flag ${flag}: key "${key}" already exists`);
    out[key] = value;
  }
  return out;
}

/** notation's error for a signature format other than jws/cose. */
export function unsupportedFormat(format: string): VouchError {
  return new VouchError(
    'ERR_ENVELOPE_UNSUPPORTED',
    `signature format "${format}" not supported\nSupported signature envelope formats are "jws" and "cose"`,
    { details: { format } },
  );
}

/** `jws` or `cose` (case-insensitive), else notation's "signature format … not supported". */
export function checkFormat(value: string): SignatureFormat {
  const f = value.toLowerCase();
  if (f !== 'jws' && f !== 'cose') throw unsupportedFormat(value);
  return f;
}

function baseName(path: string): string {
  const parts = path.split(/[/\\]/);
  return parts[parts.length - 1] ?? '';
}

/**
 * The envelope format of a detached signature file as `blob verify` derives it (notation's
 * rules and messages, see `formatFromSignatureFileName`).
 */
export function verifySignatureFormat(path: string): { format: SignatureFormat; envelopeMediaType: string } {
  const format = formatFromSignatureFileName(path);
  return { format, envelopeMediaType: SIGNATURE_FORMAT_MEDIA_TYPES[format] };
}

/** As {@link verifySignatureFormat}, with `blob inspect`'s wording (`invalid signature filename: <name>`). */
export function inspectSignatureFormat(path: string): { format: SignatureFormat; envelopeMediaType: string } {
  const name = baseName(path);
  const parts = name.split('.');
  if (parts.length < 3 || parts[parts.length - 1] !== 'sig') {
    throw new VouchError('ERR_INVALID_ARGUMENT', `invalid signature filename: ${name}. The name must be <name>.<jws|cose>.sig`);
  }
  const format = checkFormat(parts[parts.length - 2]!);
  return { format, envelopeMediaType: SIGNATURE_FORMAT_MEDIA_TYPES[format] };
}

/** A string option that, when given, must not be empty (`--signature-directory ""`). */
export function nonEmpty(value: unknown, message: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new UsageError(message);
  return value;
}

/** The single positional argument of a verb, with notation's messages when missing or empty. */
export function positional(value: unknown, missing: string, empty: string): string {
  if (value === undefined) throw new UsageError(missing);
  if (typeof value !== 'string' || value === '') throw new UsageError(empty);
  return value;
}

/** An option set on the verb itself or on `vouch blob` (notation accepts `blob --signature-format cose sign`). */
export function inheritedOption(cmd: Command, name: string): unknown {
  return cmd.optsWithGlobals()[name];
}

/**
 * notation's confirmation prompt: `<prompt> [y/N] ` on stdout (stderr under `--output json`),
 * then one line of stdin; `y`/`yes` confirm, anything else (EOF included) declines. Without
 * any stdin (embedded use) it fails closed, pointing at `--force`.
 */
export async function askConfirmation(ctx: CliContext, prompt: string): Promise<boolean> {
  if (!ctx.io.stdin) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `${prompt} Confirmation is required and no input is available: pass --force to proceed`, {
      details: { confirmation: prompt },
    });
  }
  return ctx.confirm(prompt, false);
}
