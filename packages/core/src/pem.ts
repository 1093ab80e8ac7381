import { fromBase64, toBase64 } from './bytes.js';
import { VouchError } from './errors.js';

export interface PemBlock {
  label: string;
  der: Uint8Array;
}

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** True when the bytes/text look like PEM (a BEGIN line is present). */
export function isPem(text: string): boolean {
  return text.includes('-----BEGIN ');
}

/** Every PEM block in `text`, in order. Throws ERR_MALFORMED_INPUT when a block's body is not base64. */
export function decodePem(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(PEM_RE)) {
    const body = m[2]!.replace(/\r?\n|\r|\s/g, '');
    if (body.includes(':')) {
      throw new VouchError('ERR_MALFORMED_INPUT', `PEM block ${m[1]} has headers, which are not supported`);
    }
    out.push({ label: m[1]!, der: fromBase64(body) });
  }
  return out;
}

export function encodePem(label: string, der: Uint8Array): string {
  const b64 = toBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
