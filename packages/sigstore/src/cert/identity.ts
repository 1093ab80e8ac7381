/**
 * The identity a Sigstore signing certificate carries: its subject alternative names and
 * Fulcio's extensions (OID arc 1.3.6.1.4.1.57264.1, "Fulcio certificate extensions" in
 * sigstore/fulcio `docs/oid-info.md`), and matching them against a policy.
 */

import { VouchError } from '@vouch/core';
import { Asn1Error, type Asn1Node, decode, readOid, seq, stringContent, TAG } from '@vouch/core/asn1';
import { fromUtf8 } from '@vouch/core/internal';
import type { Certificate } from '@vouch/x509';
import type { CertificateIdentity, FulcioExtensions } from '../types.js';

const ARC = '1.3.6.1.4.1.57264.1.';
const SAN = '2.5.29.17';
/** Fulcio's otherName SAN for usernames (`username!oidc-issuer`). */
const OTHERNAME_USERNAME = `${ARC}7`;

/** Deprecated extensions 1–6 hold raw text; 8 onwards hold a DER UTF8String. */
const RAW: Readonly<Record<number, keyof FulcioExtensions>> = {
  1: 'issuer',
  2: 'githubWorkflowTrigger',
  3: 'githubWorkflowSha',
  4: 'githubWorkflowName',
  5: 'githubWorkflowRepository',
  6: 'githubWorkflowRef',
};
const DER: Readonly<Record<number, keyof FulcioExtensions>> = {
  8: 'issuer',
  9: 'buildSignerUri',
  10: 'buildSignerDigest',
  11: 'runnerEnvironment',
  12: 'sourceRepositoryUri',
  13: 'sourceRepositoryDigest',
  14: 'sourceRepositoryRef',
  15: 'sourceRepositoryIdentifier',
  16: 'sourceRepositoryOwnerUri',
  17: 'sourceRepositoryOwnerIdentifier',
  18: 'buildConfigUri',
  19: 'buildConfigDigest',
  20: 'buildTrigger',
  21: 'runInvocationUri',
  22: 'sourceRepositoryVisibilityAtSigning',
};

function text(b: Uint8Array): string {
  return fromUtf8(b);
}

function ip(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
    return groups.join(':');
  }
  throw new Asn1Error('an iPAddress is 4 or 16 bytes');
}

/** Every value of a GeneralNames SEQUENCE that names the subject (email, DNS, URI, IP, Fulcio username). */
function generalNames(n: Asn1Node): string[] {
  const out: string[] = [];
  for (const g of seq(n, 'GeneralNames')) {
    if (g.cls !== 2) throw new Asn1Error('a GeneralName is context-tagged');
    switch (g.tagNumber) {
      case 1: // rfc822Name
      case 2: // dNSName
      case 6: // uniformResourceIdentifier
        out.push(text(g.value));
        break;
      case 7:
        out.push(ip(g.value));
        break;
      case 0: {
        // otherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }
        const [oid, value] = g.children;
        if (readOid(oid, 'otherName type-id') === OTHERNAME_USERNAME && value && value.cls === 2 && value.tagNumber === 0) {
          const inner = value.children[0];
          if (inner?.tag === TAG.UTF8_STRING) out.push(text(stringContent(inner)));
        }
        break;
      }
      default:
        break; // directoryName, x400Address, ediPartyName, registeredID: not identities Sigstore matches
    }
  }
  return out;
}

/**
 * The identity a signing certificate carries: every subject alternative name value (email,
 * DNS, URI, IP address, Fulcio's username otherName) and the Fulcio extensions present.
 *
 * @throws VouchError ERR_CERT_INVALID when the SAN or a Fulcio extension is malformed.
 */
export function signingCertificateIdentity(certificate: Certificate): { subjectAlternativeNames: string[]; extensions: FulcioExtensions } {
  const extensions: Record<string, string> = {};
  let subjectAlternativeNames: string[] = [];
  for (const ext of certificate.extensions ?? []) {
    try {
      if (ext.oid === SAN) subjectAlternativeNames = generalNames(decode(ext.value));
      else if (ext.oid.startsWith(ARC)) {
        const n = Number(ext.oid.slice(ARC.length));
        const raw = RAW[n];
        const der = DER[n];
        // The DER form of the issuer (.8) wins over the deprecated raw form (.1).
        if (raw && !(raw === 'issuer' && extensions.issuer !== undefined)) extensions[raw] = text(ext.value);
        else if (der) {
          const node = decode(ext.value);
          if (node.tag !== TAG.UTF8_STRING) throw new Asn1Error('expected a UTF8String');
          extensions[der] = text(stringContent(node));
        }
      }
    } catch (e) {
      throw new VouchError(
        'ERR_CERT_INVALID',
        `certificate ${JSON.stringify(certificate.subject)}: extension ${ext.oid} is malformed: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  }
  return { subjectAlternativeNames, extensions: extensions as FulcioExtensions };
}

function regexpOf(v: string | RegExp, field: string): RegExp {
  if (v instanceof RegExp) return v;
  try {
    return new RegExp(v, 'u');
  } catch (e) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `identity.${field}: ${JSON.stringify(v)} is not a valid regular expression`, { cause: e });
  }
}

function test(re: RegExp, value: string): boolean {
  re.lastIndex = 0;
  return re.test(value);
}

/** Why `identity` does not accept the certificate's identity, or undefined when it does. */
export function identityMismatch(
  identity: CertificateIdentity,
  id: { subjectAlternativeNames: readonly string[]; extensions: FulcioExtensions },
): string | undefined {
  if (identity.subject !== undefined && !id.subjectAlternativeNames.includes(identity.subject))
    return `no SAN equals ${JSON.stringify(identity.subject)}`;
  if (identity.subjectRegExp !== undefined) {
    const re = regexpOf(identity.subjectRegExp, 'subjectRegExp');
    if (!id.subjectAlternativeNames.some((s) => test(re, s))) return `no SAN matches /${re.source}/`;
  }
  const issuer = id.extensions.issuer;
  if (identity.issuer !== undefined && issuer !== identity.issuer)
    return `the OIDC issuer ${JSON.stringify(issuer ?? null)} is not ${JSON.stringify(identity.issuer)}`;
  if (identity.issuerRegExp !== undefined) {
    const re = regexpOf(identity.issuerRegExp, 'issuerRegExp');
    if (issuer === undefined || !test(re, issuer)) return `the OIDC issuer ${JSON.stringify(issuer ?? null)} does not match /${re.source}/`;
  }
  for (const [k, v] of Object.entries(identity.extensions ?? {})) {
    if (v === undefined) continue;
    const have = id.extensions[k as keyof FulcioExtensions];
    if (have !== v) return `extension ${k} is ${JSON.stringify(have ?? null)}, not ${JSON.stringify(v)}`;
  }
  return undefined;
}

/** Reject an identity policy that names nothing (it would accept anyone). */
export function checkIdentityPolicy(identity: CertificateIdentity): void {
  const named =
    identity.subject !== undefined ||
    identity.subjectRegExp !== undefined ||
    identity.issuer !== undefined ||
    identity.issuerRegExp !== undefined ||
    Object.values(identity.extensions ?? {}).some((v) => v !== undefined);
  if (!named) {
    throw new VouchError(
      'ERR_INVALID_ARGUMENT',
      "an identity names a subject, an issuer or an extension to match (use identity: 'any' to accept any)",
    );
  }
}
