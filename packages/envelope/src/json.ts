import { VouchError, type VouchErrorCode } from '@vouch/core';

/**
 * JSON helpers shared by the codecs.
 *
 * - `parseStrictJson`: RFC 8259 parser that rejects duplicate object member names (RFC 7515 §4
 *   allows a JWS parser to reject them; accepting "last wins" lets two parsers disagree on the
 *   signed content), limits nesting depth and never throws anything but a VouchError.
 * - `encodeGoJson`: the byte-exact JSON that Go's `encoding/json` produces for the same value
 *   (compact; `<`, `>`, `&`, U+2028, U+2029 escaped as `\u003c`…; map keys sorted by UTF-8 bytes),
 *   which is what notation writes into JWS protected headers and payloads.
 */

const MAX_DEPTH = 64;

/** A run of string characters that need no attention: not `"`, `\\` or a control character. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the class excludes the control characters JSON forbids in strings
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;

class Parser {
  i = 0;
  constructor(
    readonly s: string,
    readonly code: VouchErrorCode,
    readonly what: string,
  ) {}

  fail(msg: string): never {
    throw new VouchError(this.code, `${this.what} is not valid JSON: ${msg} at offset ${this.i}`);
  }

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.i++;
      else break;
    }
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    this.ws();
    const c = this.s[this.i];
    switch (c) {
      case '{':
        return this.object(depth);
      case '[':
        return this.array(depth);
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        return this.fail(c === undefined ? 'unexpected end of input' : `unexpected character ${JSON.stringify(c)}`);
    }
  }

  literal<T>(word: string, v: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return v;
    }
    return this.fail('invalid literal');
  }

  number(): number {
    const re = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    re.lastIndex = this.i;
    const m = re.exec(this.s);
    if (!m) return this.fail('invalid number');
    this.i += m[0].length;
    const n = Number(m[0]);
    if (!Number.isFinite(n)) this.fail('number out of range');
    return n;
  }

  string(): string {
    const s = this.s;
    this.i++; // opening quote
    let out = '';
    let start = this.i;
    for (;;) {
      // Skip a run of ordinary characters in one native regex step (base64 certificate chains
      // are long strings); the loop below handles the quote, escapes and control characters.
      PLAIN_RUN.lastIndex = this.i;
      PLAIN_RUN.test(s);
      this.i = PLAIN_RUN.lastIndex;
      if (this.i >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(this.i);
      if (c === 0x22) {
        out += s.slice(start, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) this.fail('control character in string');
      if (c === 0x5c) {
        out += s.slice(start, this.i);
        const e = s[this.i + 1];
        this.i += 2;
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const h = s.slice(this.i, this.i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail('invalid \\u escape');
            out += String.fromCharCode(Number.parseInt(h, 16));
            this.i += 4;
            break;
          }
          default:
            this.i -= 2;
            this.fail('invalid escape');
        }
        start = this.i;
        continue;
      }
      this.i++;
    }
  }

  array(depth: number): unknown[] {
    this.i++;
    const out: unknown[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === ']') {
        this.i++;
        return out;
      }
      this.fail("expected ',' or ']'");
    }
  }

  object(depth: number): Record<string, unknown> {
    this.i++;
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a member name');
      const key = this.string();
      if (Object.hasOwn(out, key)) this.fail(`duplicate member name ${JSON.stringify(key)}`);
      this.ws();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      const v = this.value(depth + 1);
      // defineProperty for "__proto__", so that it stays an ordinary own property (as JSON.parse
      // makes it); a plain assignment creates the same own data property for any other name.
      if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === '}') {
        this.i++;
        return out;
      }
      this.fail("expected ',' or '}'");
    }
  }
}

/**
 * Parse JSON text strictly (duplicate member names rejected, depth ≤ 64). Errors are
 * VouchErrors with `code` whose message names `what`.
 */
export function parseStrictJson(text: string, code: VouchErrorCode, what: string): unknown {
  const p = new Parser(text, code, what);
  const v = p.value(0);
  p.ws();
  if (p.i !== text.length) p.fail('trailing data after the JSON value');
  return v;
}

/** True for a plain JSON object (not array, not null). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

const HEX = '0123456789abcdef';

function goString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      switch (c) {
        case 0x22:
          esc = '\\"';
          break;
        case 0x5c:
          esc = '\\\\';
          break;
        case 0x0a:
          esc = '\\n';
          break;
        case 0x0d:
          esc = '\\r';
          break;
        case 0x09:
          esc = '\\t';
          break;
        case 0x08:
          esc = '\\b';
          break;
        case 0x0c:
          esc = '\\f';
          break;
        default:
          esc = `\\u${HEX[(c >> 12) & 15]}${HEX[(c >> 8) & 15]}${HEX[(c >> 4) & 15]}${HEX[c & 15]}`;
      }
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      throw new VouchError('ERR_INVALID_ARGUMENT', 'a string contains an unpaired UTF-16 surrogate and cannot be encoded as UTF-8');
    }
    if (esc !== undefined) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return `${out + s.slice(start)}"`;
}

/** Compare two strings by their UTF-8 bytes (= code point order), as Go sorts map keys. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/**
 * Encode `value` as Go's `encoding/json` would: objects as maps with sorted keys when
 * `sortKeys` is true, else in insertion order (Go struct field order).
 * Throws ERR_INVALID_ARGUMENT for values JSON cannot carry (NaN, functions, bigint, cycles…).
 */
export function encodeGoJson(value: unknown, sortKeys = true, depth = 0): string {
  if (depth > MAX_DEPTH) throw new VouchError('ERR_INVALID_ARGUMENT', `value nests deeper than ${MAX_DEPTH} levels`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return goString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new VouchError('ERR_INVALID_ARGUMENT', `${value} cannot be encoded as JSON`);
      // Go's float formatting switches to exponent form at the same thresholds as JavaScript.
      return Object.is(value, -0) ? '-0' : String(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => encodeGoJson(v, sortKeys, depth + 1)).join(',')}]`;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new VouchError(
          'ERR_INVALID_ARGUMENT',
          'only plain objects, arrays, strings, numbers, booleans and null can be encoded as JSON',
        );
      }
      const keys = Object.keys(value);
      if (sortKeys) keys.sort(compareUtf8);
      const rec = value as Record<string, unknown>;
      return `{${keys.map((k) => `${goString(k)}:${encodeGoJson(rec[k], sortKeys, depth + 1)}`).join(',')}}`;
    }
    default:
      throw new VouchError('ERR_INVALID_ARGUMENT', `a ${typeof value} cannot be encoded as JSON`);
  }
}
