/**
 * Certificate chain validation with the Notary Project profiles (signature specification,
 * "Certificate Requirements"): code-signing chains and timestamping (TSA) chains.
 *
 * Structure and messages follow notation-core-go's `ValidateCodeSigningCertChain` /
 * `ValidateTimestampingCertChain`; where the Go code is laxer than the specification vouch
 * follows the specification (see the GAP notes on each rule).
 */
import { isVouchError, VouchError } from '@vouch/core';
import { certificatePartsOf } from './certificate.js';
import { OID } from './internal/oids.js';
import { verifyCertificateSignature } from './internal/verify.js';
import type { Certificate } from './types.js';

/** Options of {@link validateSigningChain} and {@link validateTimestampingChain}. */
export interface ChainValidationOptions {
  /**
   * Require every certificate to be valid at this instant (verification time, or an
   * authentic timestamp / signing time). Failure: ERR_CERT_EXPIRED.
   */
  at?: Date;
  /**
   * Signing side: every certificate must be valid at the signing time (notation's
   * `signingTime` argument). Failure: ERR_CERT_EXPIRED with notation's wording.
   */
  signingTime?: Date;
  /**
   * Accept critical extensions vouch does not recognise. Default false: RFC 5280 §4.2 says a
   * certificate with an unrecognised critical extension must be rejected (notation ignores them).
   */
  allowUnknownCriticalExtensions?: boolean;
}

/** At most this many certificates in a chain (a bound on work for hostile input). */
export const MAX_CHAIN_LENGTH = 16;

/** Critical extensions vouch recognises (evaluated, or known and safe to not evaluate). */
export const RECOGNISED_EXTENSIONS = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
  OID.subjectAltName,
  OID.nameConstraints,
  OID.crlDistributionPoints,
  OID.certificatePolicies,
  OID.policyMappings,
  OID.policyConstraints,
  OID.inhibitAnyPolicy,
  OID.authorityInfoAccess,
  OID.freshestCrl,
]);

const PROFILE_EXTENSIONS = [OID.basicConstraints, OID.keyUsage, OID.extKeyUsage];

const q = (s: string) => JSON.stringify(s);

/** Format an instant the way Go prints a UTC time.Time (`2006-01-02 15:04:05 +0000 UTC`). */
function goTime(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

function chainError(message: string, cert?: Certificate, details: Record<string, unknown> = {}): VouchError {
  return new VouchError('ERR_CERT_CHAIN_INVALID', message, {
    details: cert ? { subject: cert.subject, sha256Fingerprint: cert.sha256Fingerprint, ...details } : details,
  });
}

/** True when `time` lies within [notBefore, notAfter] of `cert` (both ends inclusive). */
export function isValidAt(cert: Certificate, time: Date): boolean {
  const t = time.getTime();
  return t >= cert.notBefore.getTime() && t <= cert.notAfter.getTime();
}

/**
 * Check that a signing time lies within the certificate's validity period (notation's
 * `validateSigningTime`).
 *
 * @throws VouchError ERR_CERT_EXPIRED when it does not.
 */
export function validateSigningTime(cert: Certificate, signingTime: Date): void {
  if (!isValidAt(cert, signingTime)) {
    throw new VouchError(
      'ERR_CERT_EXPIRED',
      `certificate with subject ${q(cert.subject)} was invalid at signing time of ${goTime(signingTime)}. ` +
        `Certificate is valid from [${goTime(cert.notBefore)}] to [${goTime(cert.notAfter)}]`,
      { details: { subject: cert.subject, signingTime: signingTime.toISOString(), ...validity(cert) } },
    );
  }
}

function validity(cert: Certificate) {
  return { notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString() };
}

function validateAt(cert: Certificate, at: Date): void {
  if (!isValidAt(cert, at)) {
    const when = at.getTime() < cert.notBefore.getTime() ? 'is not yet valid' : 'has expired';
    throw new VouchError(
      'ERR_CERT_EXPIRED',
      `certificate with subject ${q(cert.subject)} ${when} at ${goTime(at)}. ` +
        `Certificate is valid from [${goTime(cert.notBefore)}] to [${goTime(cert.notAfter)}]`,
      { details: { subject: cert.subject, at: at.toISOString(), ...validity(cert) } },
    );
  }
}

function rawNamesEqual(child: Certificate, parent: Certificate): boolean {
  const a = certificatePartsOf(parent).rawSubject;
  const b = certificatePartsOf(child).rawIssuer;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Go's `isIssuedBy`: the parent may sign certificates (v3 ⇒ basicConstraints with cA; keyUsage,
 * when present, has keyCertSign), the signature verifies with the parent's key, and the parent's
 * raw subject equals the child's raw issuer. Returns an error text, `false` for a name mismatch
 * only, or `true`.
 */
async function issuedBy(child: Certificate, parent: Certificate, signature?: Promise<true | string>): Promise<true | false | string> {
  const v3 = (parent.version ?? 3) === 3;
  if ((v3 && !parent.basicConstraints) || (parent.basicConstraints && !parent.basicConstraints.ca)) {
    return 'parent certificate cannot sign this kind of certificate (it is not a CA)';
  }
  if (parent.keyUsage && !parent.keyUsage.usages.includes('keyCertSign')) {
    return 'parent certificate cannot sign this kind of certificate (keyUsage lacks keyCertSign)';
  }
  const sig = await (signature ?? checkSignature(child, parent));
  if (sig !== true) return sig;
  return rawNamesEqual(child, parent);
}

async function checkSignature(child: Certificate, signer: Certificate): Promise<true | string> {
  try {
    return (await verifyCertificateSignature(child, signer)) ? true : 'signature verification error';
  } catch (e) {
    return isVouchError(e) ? e.message : String(e);
  }
}

function checkProfileExtensionsDecodable(cert: Certificate): void {
  const bad = (cert.malformedExtensions ?? []).filter((o) => PROFILE_EXTENSIONS.includes(o as (typeof PROFILE_EXTENSIONS)[number]));
  if (bad.length > 0) {
    throw chainError(`certificate with subject ${q(cert.subject)}: extension ${bad.join(', ')} is malformed`, cert, {
      rule: 'malformed-extension',
    });
  }
}

function checkUnknownCritical(cert: Certificate, options: ChainValidationOptions): void {
  if (options.allowUnknownCriticalExtensions) return;
  const unknown = cert.criticalExtensions.filter((o) => !RECOGNISED_EXTENSIONS.has(o));
  if (unknown.length > 0) {
    throw chainError(
      `certificate with subject ${q(cert.subject)} has unrecognised critical extension(s) ${unknown.join(', ')}; ` +
        'a certificate with a critical extension the verifier does not understand must be rejected (RFC 5280 §4.2)',
      cert,
      { rule: 'unknown-critical-extension', extensions: unknown },
    );
  }
}

// ---------------------------------------------------------------- per-certificate rules

/**
 * CA rules (§6.2): basicConstraints present, critical and cA=true (GAP: Go does not check
 * criticality); pathLenConstraint, when present, ≥ `expectedPathLen` (the number of CA
 * certificates below this one); keyUsage present with keyCertSign, and critical for code
 * signing chains (TSA chains: SHOULD, not enforced, like notation).
 *
 * @throws VouchError ERR_CERT_CHAIN_INVALID
 */
export function validateCaCertificate(cert: Certificate, expectedPathLen: number, options: { timestamping?: boolean } = {}): void {
  checkProfileExtensionsDecodable(cert);
  const bc = cert.basicConstraints;
  if (!bc?.ca || !bc.critical) {
    throw chainError(
      `certificate with subject ${q(cert.subject)}: ca field in basic constraints must be present, critical, and set to true`,
      cert,
      {
        rule: 'ca-basic-constraints',
      },
    );
  }
  if (bc.pathLenConstraint !== undefined && bc.pathLenConstraint < expectedPathLen) {
    throw chainError(
      `certificate with subject ${q(cert.subject)}: expected path length of ${expectedPathLen} but certificate has path length ${bc.pathLenConstraint} instead`,
      cert,
      { rule: 'path-length' },
    );
  }
  checkKeyUsagePresent(cert, !options.timestamping);
  if (!cert.keyUsage!.usages.includes('keyCertSign')) {
    throw chainError(`certificate with subject ${q(cert.subject)}: key usage must have the bit positions for key cert sign set`, cert, {
      rule: 'ca-key-usage',
    });
  }
}

function checkKeyUsagePresent(cert: Certificate, mustBeCritical: boolean): void {
  if (!cert.keyUsage) {
    throw chainError(`certificate with subject ${q(cert.subject)}: key usage extension must be present`, cert, {
      rule: 'key-usage-present',
    });
  }
  if (mustBeCritical && !cert.keyUsage.critical) {
    throw chainError(`certificate with subject ${q(cert.subject)}: key usage extension must be marked critical`, cert, {
      rule: 'key-usage-critical',
    });
  }
}

const FORBIDDEN_LEAF_KU: readonly [string, string][] = [
  ['keyEncipherment', 'KeyEncipherment'],
  ['dataEncipherment', 'DataEncipherment'],
  ['keyAgreement', 'KeyAgreement'],
  ['keyCertSign', 'CertSign'],
  ['cRLSign', 'CRLSign'],
  ['encipherOnly', 'EncipherOnly'],
  ['decipherOnly', 'DecipherOnly'],
];

function checkLeafBasicsAndKeyUsage(cert: Certificate, kuMustBeCritical: boolean): void {
  checkProfileExtensionsDecodable(cert);
  if (cert.basicConstraints?.ca) {
    throw chainError(
      `certificate with subject ${q(cert.subject)}: if the basic constraints extension is present, the ca field must be set to false`,
      cert,
      {
        rule: 'leaf-basic-constraints',
      },
    );
  }
  checkKeyUsagePresent(cert, kuMustBeCritical);
  const usages = cert.keyUsage!.usages;
  if (!usages.includes('digitalSignature')) {
    throw chainError(
      `the certificate with subject ${q(cert.subject)} is invalid. The key usage must have the bit positions for "Digital Signature" set`,
      cert,
      {
        rule: 'leaf-key-usage',
      },
    );
  }
  const found = FORBIDDEN_LEAF_KU.filter(([name]) => usages.includes(name)).map(([, label]) => `"${label}"`);
  if (found.length > 0) {
    throw chainError(
      `the certificate with subject ${q(cert.subject)} is invalid. The key usage must be "Digital Signature" only, but found ${found.join(', ')}`,
      cert,
      { rule: 'leaf-key-usage' },
    );
  }
}

function checkLeafKey(cert: Certificate): void {
  const pk = cert.publicKey;
  const ok = pk.type === 'RSA' ? [2048, 3072, 4096].includes(pk.bits) : pk.curve !== undefined;
  if (!ok) {
    throw chainError(
      `certificate with subject ${q(cert.subject)}: ${pk.type === 'RSA' ? 'rsa' : 'ecdsa'} key size ${pk.bits} bits is not supported`,
      cert,
      {
        rule: 'leaf-key',
      },
    );
  }
}

/** EKUs a code-signing leaf must not carry, in notation's wording. GAP: notation allows anyExtendedKeyUsage. */
const FORBIDDEN_SIGNING_EKU: Readonly<Record<string, string>> = {
  [OID.anyExtendedKeyUsage]: 'Any',
  [OID.serverAuth]: 'ServerAuth',
  [OID.clientAuth]: 'ClientAuth',
  [OID.emailProtection]: 'EmailProtection',
  [OID.timeStamping]: 'Timestamping',
  [OID.ocspSigning]: 'OCSPSigning',
};

/**
 * Code-signing leaf rules (§6.3): basicConstraints, if present, cA=false; keyUsage present,
 * critical, with digitalSignature and none of keyEncipherment, dataEncipherment, keyAgreement,
 * keyCertSign, cRLSign, encipherOnly, decipherOnly; EKU optional but never anyExtendedKeyUsage
 * (GAP: notation allows it), serverAuth, clientAuth, emailProtection, timeStamping or
 * OCSPSigning; key RSA 2048/3072/4096 or EC P-256/P-384/P-521.
 *
 * @throws VouchError ERR_CERT_CHAIN_INVALID
 */
export function validateSigningLeaf(cert: Certificate): void {
  checkLeafBasicsAndKeyUsage(cert, true);
  for (const oid of cert.extKeyUsage?.oids ?? []) {
    const label = FORBIDDEN_SIGNING_EKU[oid];
    if (label) {
      throw chainError(`certificate with subject ${q(cert.subject)}: extended key usage must not contain ${label} eku`, cert, {
        rule: 'leaf-ext-key-usage',
        eku: oid,
      });
    }
  }
  checkLeafKey(cert);
}

/**
 * Timestamping leaf rules (§6.3, RFC 3161 §2.3): basicConstraints, if present, cA=false;
 * keyUsage present with digitalSignature and no forbidden bit (criticality is a SHOULD, not
 * enforced, like notation); EKU present, critical, and exactly id-kp-timeStamping; key RSA
 * 2048/3072/4096 or EC P-256/P-384/P-521.
 *
 * @throws VouchError ERR_CERT_CHAIN_INVALID
 */
export function validateTimestampingLeaf(cert: Certificate): void {
  checkLeafBasicsAndKeyUsage(cert, false);
  const eku = cert.extKeyUsage;
  if (eku?.oids.length !== 1 || eku.oids[0] !== OID.timeStamping) {
    throw chainError(
      `timestamp signing certificate with subject ${q(cert.subject)} must have and only have Timestamping as extended key usage`,
      cert,
      {
        rule: 'tsa-ext-key-usage',
      },
    );
  }
  if (!eku.critical) {
    throw chainError(
      `timestamp signing certificate with subject ${q(cert.subject)} must have extended key usage extension marked as critical`,
      cert,
      {
        rule: 'tsa-ext-key-usage-critical',
      },
    );
  }
  checkLeafKey(cert);
}

// ---------------------------------------------------------------- chains

async function validateChain(chain: readonly Certificate[], options: ChainValidationOptions, timestamping: boolean): Promise<void> {
  if (!Array.isArray(chain) || chain.length === 0) {
    throw chainError('certificate chain must contain at least one certificate');
  }
  if (chain.length > MAX_CHAIN_LENGTH) {
    throw chainError(`certificate chain has ${chain.length} certificates; at most ${MAX_CHAIN_LENGTH} are accepted`);
  }
  const leafRules = timestamping ? validateTimestampingLeaf : validateSigningLeaf;
  const timeChecks = (cert: Certificate) => {
    if (options.signingTime) validateSigningTime(cert, options.signingTime);
    if (options.at) validateAt(cert, options.at);
  };

  if (chain.length === 1) {
    // A single certificate is a self-signed (and self-issued) signing certificate that must
    // satisfy the leaf rules; CA rules do not apply.
    const cert = chain[0]!;
    timeChecks(cert);
    const sig = await checkSignature(cert, cert);
    if (sig !== true)
      throw chainError(`invalid self-signed certificate. subject: ${q(cert.subject)}. Error: ${sig}`, cert, { rule: 'self-signed' });
    if (!rawNamesEqual(cert, cert)) {
      throw chainError(
        `invalid self-signed certificate. subject: ${q(cert.subject)}. Error: issuer name does not equal subject name`,
        cert,
        {
          rule: 'self-signed',
        },
      );
    }
    try {
      leafRules(cert);
      checkUnknownCritical(cert, options);
    } catch (e) {
      if (isVouchError(e))
        throw new VouchError(e.code, `invalid self-signed certificate. Error: ${e.message}`, { cause: e, details: e.details });
      throw e;
    }
    return;
  }

  // The link signatures are independent: start every check at once (WebCrypto runs them
  // concurrently), then apply the rules in chain order, so the first failing rule is reported
  // exactly as if the checks had run one by one. checkSignature never rejects.
  const signatures = chain.map((cert, i) => checkSignature(cert, chain[Math.min(i + 1, chain.length - 1)]!));
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i]!;
    timeChecks(cert);
    if (i === chain.length - 1) {
      const self = await issuedBy(cert, cert, signatures[i]);
      if (typeof self === 'string') {
        throw chainError(
          `root certificate with subject ${q(cert.subject)} is invalid or not self-signed. Certificate chain must end with a valid self-signed root certificate. Error: ${self}`,
          cert,
          { rule: 'root-self-signed', index: i },
        );
      }
      if (!self) {
        throw chainError(
          `root certificate with subject ${q(cert.subject)} is not self-signed. Certificate chain must end with a valid self-signed root certificate`,
          cert,
          { rule: 'root-self-signed', index: i },
        );
      }
    } else {
      // Self-signed needs self-issued names too, so the signature is only checked when they match.
      if (cert.selfSigned && (await issuedBy(cert, cert)) === true) {
        const kind = i === 0 ? 'leaf' : 'intermediate';
        throw chainError(
          `${kind} certificate with subject ${q(cert.subject)} is self-signed. Certificate chain must not contain self-signed ${kind} certificate`,
          cert,
          { rule: 'self-signed-non-root', index: i },
        );
      }
      const parent = chain[i + 1]!;
      const link = await issuedBy(cert, parent, signatures[i]);
      if (typeof link === 'string') {
        throw chainError(
          `invalid certificates or certificate with subject ${q(cert.subject)} is not issued by ${q(parent.subject)}. Error: ${link}`,
          cert,
          { rule: 'issuer-link', index: i },
        );
      }
      if (!link) {
        throw chainError(`certificate with subject ${q(cert.subject)} is not issued by ${q(parent.subject)}`, cert, {
          rule: 'issuer-link',
          index: i,
        });
      }
    }
    if (i === 0) leafRules(cert);
    else validateCaCertificate(cert, i - 1, { timestamping });
    checkUnknownCritical(cert, options);
  }
}

/**
 * Validate a code-signing chain (leaf first, ending in a self-signed root) against the Notary
 * Project certificate requirements. A single self-signed certificate (e.g. from
 * `notation cert generate-test`) is a valid chain when it satisfies the leaf rules.
 * Trust (whether the root is in a trust store) is not decided here.
 *
 * @throws VouchError ERR_CERT_CHAIN_INVALID for a rule violation (message says which), or
 *   ERR_CERT_EXPIRED when `at`/`signingTime` is outside a certificate's validity.
 * @example
 * ```ts
 * import { hasCode } from '@vouch/core';
 * import { parseCertificates, validateSigningChain } from '@vouch/x509';
 *
 * const chain = parseCertificates(chainPem); // leaf first
 * try {
 *   await validateSigningChain(chain, { at: new Date() });
 * } catch (e) {
 *   if (hasCode(e, 'ERR_CERT_CHAIN_INVALID') || hasCode(e, 'ERR_CERT_EXPIRED')) console.error(e.message);
 *   else throw e;
 * }
 * ```
 */
export async function validateSigningChain(chain: readonly Certificate[], options: ChainValidationOptions = {}): Promise<void> {
  await validateChain(chain, options, false);
}

/**
 * Validate a timestamping (TSA) chain: same structure as {@link validateSigningChain}, with
 * the TSA leaf rules (EKU exactly timeStamping, critical).
 *
 * @throws VouchError ERR_CERT_CHAIN_INVALID or ERR_CERT_EXPIRED
 */
export async function validateTimestampingChain(chain: readonly Certificate[], options: ChainValidationOptions = {}): Promise<void> {
  await validateChain(chain, options, true);
}
