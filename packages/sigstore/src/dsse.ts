import { notYet } from './stub.js';
import type { DsseEnvelope, InTotoStatement } from './types.js';

/** Parse a DSSE envelope (JSON text, bytes, or the parsed JSON object). */
export function parseDsseEnvelope(input: string | Uint8Array | object): DsseEnvelope {
  void input;
  return notYet('parseDsseEnvelope');
}

/** The DSSE pre-authentication encoding `DSSEv1 <len> <type> <len> <payload>`: the bytes a DSSE signature covers. */
export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  void payloadType;
  void payload;
  return notYet('preAuthEncoding');
}

/** Parse an in-toto statement (v0.1 or v1) from a DSSE payload. */
export function parseInTotoStatement(payload: Uint8Array | string): InTotoStatement {
  void payload;
  return notYet('parseInTotoStatement');
}
