/**
 * What one verification is about, whatever it came from (a bundle, a cosign registry
 * signature): the signed content, the signer's material, the log entries and timestamps, and the
 * rules of its container.
 */
import type { HashAlgorithm } from '@vouch/core';
import type { Certificate } from '@vouch/x509';
import type { DsseEnvelope, TlogEntry } from '../types.js';

export interface SignedEntity {
  readonly content:
    | {
        readonly type: 'message';
        readonly signature: Uint8Array;
        /** The signed bytes (the artifact, or a cosign payload); absent when only a digest is known. */
        readonly data?: Uint8Array;
        /** The digest the container claims for the data (a bundle's messageDigest): checked, never trusted. */
        readonly claimedDigest?: { readonly hash: HashAlgorithm; readonly value: Uint8Array };
      }
    | { readonly type: 'dsse'; readonly envelope: DsseEnvelope };
  readonly certificate?: Certificate;
  readonly intermediates: readonly Certificate[];
  /** The key hint a key-signed bundle names ('' or absent: none). */
  readonly keyHint?: string;
  readonly tlogEntries: readonly TlogEntry[];
  /** DER RFC 3161 tokens over the signature. */
  readonly timestamps: readonly Uint8Array[];
  /** Where the entity came from, for messages (`bundle v0.3`, `cosign signature`). */
  readonly origin: string;
}
