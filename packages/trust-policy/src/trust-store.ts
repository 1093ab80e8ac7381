import { VouchError } from '@vouch/core';
import { type Certificate, verifyCertificateSignature } from '@vouch/x509';

/** The three trust store types of the Notary trust store specification. */
export type TrustStoreType = 'ca' | 'signingAuthority' | 'tsa';

/**
 * Where trusted certificates come from. `@vouch/node` reads notation's directory layout
 * (`truststore/x509/<type>/<name>/`); `memoryTrustStore()` holds them in memory.
 * (Contract shared with @vouch/notation and @vouch/node: extend by adding optional members.)
 */
export interface TrustStore {
  /**
   * Certificates of the named store. Throws VouchError ERR_TRUST_STORE_NOT_FOUND when the store
   * does not exist, ERR_TRUST_STORE_INVALID when it holds something not allowed.
   */
  getCertificates(type: TrustStoreType, name: string, options?: { signal?: AbortSignal }): Promise<readonly Certificate[]>;
}

/** The trust store types, in notation's order. */
export const TRUST_STORE_TYPES: readonly TrustStoreType[] = Object.freeze(['ca', 'signingAuthority', 'tsa']);

/** A parsed `<type>:<name>` trust store reference of a trust policy statement. */
export interface TrustStoreReference {
  type: TrustStoreType;
  name: string;
}

const STORE_NAME = /^[a-zA-Z0-9_.-]+$/;

/** True for a string that is one of {@link TRUST_STORE_TYPES}. */
export function isTrustStoreType(value: unknown): value is TrustStoreType {
  return value === 'ca' || value === 'signingAuthority' || value === 'tsa';
}

/**
 * True when `name` is a valid named-store name: `[a-zA-Z0-9_.-]+`, as the specification
 * says, and — stricter than notation — not `.` or `..`, which would name a directory
 * outside the store when the store lives on disk.
 */
export function isValidTrustStoreName(name: unknown): name is string {
  return typeof name === 'string' && STORE_NAME.test(name) && name !== '.' && name !== '..';
}

/**
 * Parse a trust store reference `ca:NAME`, `signingAuthority:NAME` or `tsa:NAME` (split at the
 * first colon). `statementName`, when given, is used in the messages (notation's wording).
 * Throws ERR_TRUST_POLICY_INVALID.
 */
export function parseTrustStoreReference(value: string, statementName?: string): TrustStoreReference {
  const who = statementName === undefined ? 'trust policy statement' : `trust policy statement ${JSON.stringify(statementName)}`;
  if (typeof value !== 'string') throw new VouchError('ERR_TRUST_POLICY_INVALID', `${who} has a trust store value that is not a string`);
  const colon = value.indexOf(':');
  if (colon < 0) {
    throw new VouchError(
      'ERR_TRUST_POLICY_INVALID',
      `${who} has malformed trust store value ${JSON.stringify(value)}. The required format is <TrustStoreType>:<TrustStoreName>`,
    );
  }
  const type = value.slice(0, colon);
  const name = value.slice(colon + 1);
  if (!isTrustStoreType(type)) {
    throw new VouchError(
      'ERR_TRUST_POLICY_INVALID',
      `${who} uses an unsupported trust store type ${JSON.stringify(type)} in trust store value ${JSON.stringify(value)}`,
    );
  }
  if (!isValidTrustStoreName(name)) {
    throw new VouchError(
      'ERR_TRUST_POLICY_INVALID',
      `${who} uses an unsupported trust store name ${JSON.stringify(name)} in trust store value ${JSON.stringify(value)}. Named store name needs to follow [a-zA-Z0-9_.-]+ format${name === '.' || name === '..' ? ' and cannot be "." or ".."' : ''}`,
    );
  }
  return { type, name };
}

function storeInvalid(message: string, cert?: Certificate): VouchError {
  return new VouchError(
    'ERR_TRUST_STORE_INVALID',
    message,
    cert ? { details: { subject: cert.subject, sha256: cert.sha256Fingerprint } } : {},
  );
}

/**
 * Check, without cryptography, that certificates may live in a trust store of `type`
 * (notation's rules, shared by the node file store and {@link memoryTrustStore}):
 *
 * - `ca` and `signingAuthority`: each certificate is a CA (basicConstraints cA=true) or
 *   self-issued (subject = issuer);
 * - `tsa`: each certificate is a root CA: self-issued, a CA, and with keyCertSign when it has
 *   a keyUsage extension (an intermediate CA is rejected, Quarkslab INFO-8).
 *
 * Notation also verifies the self-signature where it relies on self-signedness (non-CA
 * certificates in `ca`/`signingAuthority` stores, every `tsa` certificate):
 * {@link verifyTrustStoreCertificates} does both. Validity dates are not checked.
 * Throws ERR_TRUST_STORE_INVALID (also for an empty list).
 */
export function validateTrustStoreCertificates(type: TrustStoreType, certs: readonly Certificate[]): void {
  if (!isTrustStoreType(type)) throw new VouchError('ERR_INVALID_ARGUMENT', `unknown trust store type ${JSON.stringify(type)}`);
  if (!Array.isArray(certs) || certs.length === 0)
    throw storeInvalid('no certificates to validate: a trust store file must hold at least one certificate');
  for (const cert of certs) {
    const subject = JSON.stringify(cert.subject);
    const isCA = cert.basicConstraints?.ca === true;
    if (type === 'tsa') {
      const notRoot = `certificate with subject ${subject} is not a root CA certificate`;
      if (!cert.selfSigned) {
        throw storeInvalid(`${notRoot}: issuer (${cert.issuer}) and subject (${cert.subject}) are not the same`, cert);
      }
      if (!isCA) throw storeInvalid(`${notRoot}: x509: invalid signature: parent certificate cannot sign this kind of certificate`, cert);
      if (cert.keyUsage && !cert.keyUsage.usages.includes('keyCertSign')) {
        throw storeInvalid(`${notRoot}: its keyUsage extension lacks keyCertSign`, cert);
      }
    } else if (!isCA && !cert.selfSigned) {
      throw storeInvalid(`certificate with subject ${subject} is not a CA certificate or self-signed signing certificate`, cert);
    }
  }
}

/** The certificates whose self-signature notation verifies for a store of `type`. */
function needsSelfSignature(type: TrustStoreType, cert: Certificate): boolean {
  return type === 'tsa' || cert.basicConstraints?.ca !== true;
}

/**
 * `validateTrustStoreCertificates`, then verify the self-signature of every certificate
 * accepted for being self-signed (non-CA certificates in `ca`/`signingAuthority` stores) and of
 * every `tsa` root, as notation does. A certificate signed with an insecure or unsupported
 * algorithm (SHA-1, MD5) fails that check. Rejects with ERR_TRUST_STORE_INVALID.
 */
export async function verifyTrustStoreCertificates(type: TrustStoreType, certs: readonly Certificate[]): Promise<void> {
  validateTrustStoreCertificates(type, certs);
  for (const cert of certs) {
    if (!needsSelfSignature(type, cert)) continue;
    let ok: boolean;
    try {
      ok = await verifyCertificateSignature(cert, cert);
    } catch (e) {
      throw new VouchError(
        'ERR_TRUST_STORE_INVALID',
        `certificate with subject ${JSON.stringify(cert.subject)} cannot be checked for a self-signature: ${(e as Error).message}`,
        { cause: e, details: { subject: cert.subject, sha256: cert.sha256Fingerprint } },
      );
    }
    if (!ok) {
      throw storeInvalid(
        type === 'tsa'
          ? `certificate with subject ${JSON.stringify(cert.subject)} is not a root CA certificate: its signature does not verify with its own public key`
          : `certificate with subject ${JSON.stringify(cert.subject)} is not a CA certificate or self-signed signing certificate`,
        cert,
      );
    }
  }
}

/** The stores of {@link memoryTrustStore}: store name → certificates, per type. */
export interface MemoryTrustStoreInit {
  ca?: Readonly<Record<string, readonly Certificate[]>>;
  signingAuthority?: Readonly<Record<string, readonly Certificate[]>>;
  tsa?: Readonly<Record<string, readonly Certificate[]>>;
}

/**
 * An in-memory {@link TrustStore}. Store names and certificates are validated when the store
 * is created ({@link isValidTrustStoreName}, `validateTrustStoreCertificates`); a bad name
 * or certificate throws ERR_TRUST_STORE_INVALID. Self-signatures are verified on the first
 * `getCertificates` of each store ({@link verifyTrustStoreCertificates}; result cached), which
 * then rejects with ERR_TRUST_STORE_INVALID. `getCertificates` throws
 * ERR_TRUST_STORE_NOT_FOUND for a store that is absent or empty, ERR_ABORTED when the signal is
 * aborted.
 * @example
 * ```ts
 * import { memoryTrustStore } from '@vouch/trust-policy';
 * import { parseCertificates } from '@vouch/x509';
 *
 * const trustStore = memoryTrustStore({
 *   ca: { 'wabbit-networks.io': parseCertificates(caPem) },
 *   tsa: { 'digicert': parseCertificates(tsaRootPem) },
 * });
 * const roots = await trustStore.getCertificates('ca', 'wabbit-networks.io');
 * ```
 */
export function memoryTrustStore(stores: MemoryTrustStoreInit = {}): TrustStore {
  if (typeof stores !== 'object' || stores === null)
    throw new VouchError('ERR_INVALID_ARGUMENT', 'memoryTrustStore expects an object of stores');
  const index = new Map<string, readonly Certificate[]>();
  const verified = new Map<string, Promise<void>>();
  for (const key of Object.keys(stores)) {
    if (!isTrustStoreType(key)) {
      throw new VouchError('ERR_INVALID_ARGUMENT', `unknown trust store type ${JSON.stringify(key)}; use ca, signingAuthority or tsa`);
    }
  }
  for (const type of TRUST_STORE_TYPES) {
    const named = stores[type];
    if (named === undefined) continue;
    if (typeof named !== 'object' || named === null) {
      throw new VouchError('ERR_INVALID_ARGUMENT', `trust stores of type ${type} must be an object of store name → certificates`);
    }
    for (const [name, certs] of Object.entries(named)) {
      if (!isValidTrustStoreName(name)) {
        throw new VouchError(
          'ERR_TRUST_STORE_INVALID',
          `trust store name ${JSON.stringify(name)} of type ${type} is invalid: named store name needs to follow [a-zA-Z0-9_.-]+ format`,
        );
      }
      if (!Array.isArray(certs))
        throw new VouchError('ERR_INVALID_ARGUMENT', `trust store ${name} of type ${type} must be an array of certificates`);
      if (certs.length > 0) {
        try {
          validateTrustStoreCertificates(type, certs);
        } catch (e) {
          throw new VouchError('ERR_TRUST_STORE_INVALID', `trust store ${name} of type ${type} is invalid: ${(e as Error).message}`, {
            cause: e,
          });
        }
      }
      index.set(`${type}:${name}`, Object.freeze([...certs]));
    }
  }
  return {
    async getCertificates(type, name, options) {
      if (options?.signal?.aborted) throw new VouchError('ERR_ABORTED', 'trust store lookup aborted', { cause: options.signal.reason });
      if (!isTrustStoreType(type)) throw new VouchError('ERR_INVALID_ARGUMENT', `unknown trust store type ${JSON.stringify(type)}`);
      const certs = index.get(`${type}:${name}`);
      if (certs === undefined) {
        throw new VouchError('ERR_TRUST_STORE_NOT_FOUND', `the trust store ${JSON.stringify(name)} of type ${type} does not exist`, {
          details: { type, name },
        });
      }
      if (certs.length === 0) {
        throw new VouchError(
          'ERR_TRUST_STORE_NOT_FOUND',
          `no x509 certificates were found in trust store ${JSON.stringify(name)} of type ${type}`,
          {
            details: { type, name },
          },
        );
      }
      const key = `${type}:${name}`;
      let check = verified.get(key);
      if (!check) {
        check = verifyTrustStoreCertificates(type, certs).catch((e: unknown) => {
          throw new VouchError('ERR_TRUST_STORE_INVALID', `trust store ${name} of type ${type} is invalid: ${(e as Error).message}`, {
            cause: e,
          });
        });
        verified.set(key, check);
      }
      await check;
      return certs;
    },
  };
}
