/**
 * Reading the protobuf-JSON documents of Sigstore (bundles, trusted roots, Rekor bodies)
 * strictly: every accessor names the field it read in its error, bytes are standard base64,
 * 64-bit integers may be strings or numbers (proto3 JSON) but must be non-negative safe
 * integers, and a field may be spelled lowerCamelCase or as its proto name (proto3 JSON).
 */

import { isVouchError, VouchError, type VouchErrorCode } from '@vouch/core';
import { fromBase64, fromUtf8 } from '@vouch/core/internal';

/** A JSON object being read, with the path used in error messages and the code its errors carry. */
export class JsonReader {
  readonly value: Readonly<Record<string, unknown>>;
  readonly path: string;
  readonly code: VouchErrorCode;

  constructor(value: unknown, path: string, code: VouchErrorCode) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new VouchError(code, `${path}: expected a JSON object`);
    }
    this.value = value as Record<string, unknown>;
    this.path = path;
    this.code = code;
  }

  fail(message: string, field?: string): never {
    throw new VouchError(this.code, `${field ? `${this.path}.${field}` : this.path}: ${message}`);
  }

  /** The raw value of `name` (lowerCamelCase) or its proto name (snake_case), undefined when absent or null. */
  get(name: string): unknown {
    const v = this.value[name];
    if (v !== undefined && v !== null) return v;
    const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const s = snake === name ? undefined : this.value[snake];
    return s === null ? undefined : s;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  object(name: string): JsonReader {
    const v = this.get(name);
    if (v === undefined) this.fail('is required', name);
    return new JsonReader(v, `${this.path}.${name}`, this.code);
  }

  optionalObject(name: string): JsonReader | undefined {
    return this.has(name) ? this.object(name) : undefined;
  }

  array(name: string, required = false): unknown[] {
    const v = this.get(name);
    if (v === undefined) {
      if (required) this.fail('is required', name);
      return [];
    }
    if (!Array.isArray(v)) this.fail('expected an array', name);
    return v;
  }

  objects(name: string, required = false): JsonReader[] {
    return this.array(name, required).map((v, i) => new JsonReader(v, `${this.path}.${name}[${i}]`, this.code));
  }

  string(name: string): string {
    const v = this.get(name);
    if (typeof v !== 'string') this.fail(v === undefined ? 'is required' : 'expected a string', name);
    return v;
  }

  optionalString(name: string): string | undefined {
    return this.has(name) ? this.string(name) : undefined;
  }

  /** Base64 bytes as proto3 JSON reads them (see {@link protoBase64}). `allowEmpty`: an empty string reads as no bytes. */
  bytes(name: string, allowEmpty = false): Uint8Array {
    const s = this.string(name);
    if (s === '' && !allowEmpty) this.fail('is empty', name);
    try {
      return protoBase64(s);
    } catch (e) {
      return this.fail(`is not base64 (${(e as Error).message})`, name);
    }
  }

  optionalBytes(name: string): Uint8Array | undefined {
    return this.has(name) ? this.bytes(name) : undefined;
  }

  /** A non-negative integer within 2^53, written as a JSON number or a decimal string (int64). */
  integer(name: string): number {
    const v = this.get(name);
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && /^-?\d+$/.test(v)) n = Number(v);
    else return this.fail(v === undefined ? 'is required' : 'expected an integer', name);
    if (!Number.isSafeInteger(n)) this.fail(`${String(v)} is not a safe integer`, name);
    if (n < 0) this.fail(`must not be negative (found ${n})`, name);
    return n;
  }

  optionalInteger(name: string): number | undefined {
    return this.has(name) ? this.integer(name) : undefined;
  }

  /** An RFC 3339 timestamp (proto3 `google.protobuf.Timestamp`). */
  time(name: string): Date {
    const s = this.string(name);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(s)) this.fail(`"${s}" is not an RFC 3339 time`, name);
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) this.fail(`"${s}" is not a valid time`, name);
    return d;
  }
}

/**
 * The standard base64 text bytes were decoded from, when that text was canonical (padded, no
 * line breaks, standard alphabet), so re-encoding them (a SET payload) can reuse it. Keyed by the
 * decoded array object: only arrays this module returned are in it.
 */
const CANONICAL_TEXT = new WeakMap<Uint8Array, string>();

/** `toBase64(bytes)`, from the text `bytes` was read from when that is canonical. */
export function base64Of(bytes: Uint8Array, encode: (b: Uint8Array) => string): string {
  return CANONICAL_TEXT.get(bytes) ?? encode(bytes);
}

/**
 * Decode base64 as the proto3 JSON mapping (and Go's protojson) accept it: the standard or the
 * URL-safe alphabet (not both in one value), with or without padding; line breaks are ignored,
 * as Go's decoder ignores them. Anything else throws.
 */
export function protoBase64(value: string): Uint8Array {
  let s = value.replace(/[\r\n]/g, '');
  if (/[-_]/.test(s)) {
    if (/[+/]/.test(s)) throw new VouchError('ERR_MALFORMED_INPUT', 'mixes the standard and the URL-safe base64 alphabets');
    s = s.replace(/-/g, '+').replace(/_/g, '/');
  }
  if (s.length % 4 !== 0 && !s.endsWith('=')) s += '='.repeat(4 - (s.length % 4));
  const out = fromBase64(s);
  // fromBase64 refuses non-canonical trailing bits: the text is canonical when nothing was rewritten
  if (s === value) CANONICAL_TEXT.set(out, value);
  return out;
}

/** Parse JSON text or bytes (strict UTF-8), or take an already parsed value. */
export function parseJsonInput(input: unknown, what: string, code: VouchErrorCode): unknown {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    if (typeof input === 'object' && input !== null) return input;
    throw new VouchError('ERR_INVALID_ARGUMENT', `${what}: expected JSON text, bytes or an object`);
  }
  let text: string;
  try {
    text = typeof input === 'string' ? input : fromUtf8(input);
  } catch (e) {
    throw new VouchError(code, `${what} is not UTF-8 text`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new VouchError(code, `${what} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** Re-raise anything thrown while parsing as a VouchError with `code`. */
export function rewrap(e: unknown, code: VouchErrorCode, what: string): VouchError {
  if (isVouchError(e)) return e.code === code ? e : new VouchError(code, `${what}: ${e.message}`, { cause: e });
  return new VouchError(code, `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}
