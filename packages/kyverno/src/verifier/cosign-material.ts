/**
 * The trust material of one Kyverno `type: Cosign` / `SigstoreBundle` attestor entry, as Kyverno's
 * `buildCosignVerifier` derives it from the entry and its verifyImages entry: which signer form
 * (`keys`, `certificates`, `keyless`, or none for an attestation without attestors), the PEM
 * material, the transparency-log switches with their defaults (a `rekor` / `ctlog` block that is
 * absent means the log is required), and where signatures are read (`repository`).
 */
import { digestOf, utf8 } from '@vouch/core';
import type { Attestor, AttestorSet, ImageVerification } from '../types.js';
import { isObj } from '../util.js';

/** How a Cosign attestor entry proves who signed. */
export type CosignSignerForm = 'keys' | 'certificates' | 'keyless' | 'none';

/** The material of one Cosign attestor entry (plain data: equal material, equal verification). */
export interface CosignAttestorMaterial {
  readonly form: CosignSignerForm;
  /** `type: SigstoreBundle`: only Sigstore bundle referrers are read. */
  readonly sigstoreBundle: boolean;
  /** `keys.publicKeys` (one or more PEM `PUBLIC KEY` blocks). */
  readonly publicKeys?: string;
  /** `keys.secret`: resolved by the host (`cosign.pub` of a Kubernetes Secret). */
  readonly secret?: { readonly namespace: string; readonly name: string };
  /** `keys.kms`: resolved by the host. */
  readonly kms?: string;
  /** `certificates.cert` (PEM, or base64 of PEM as Kyverno accepts). */
  readonly cert?: string;
  /** `certificates.certChain`. */
  readonly certChain?: string;
  /** `keyless.roots`. */
  readonly roots?: string;
  readonly subject?: string;
  readonly subjectRegExp?: string;
  readonly issuer?: string;
  readonly issuerRegExp?: string;
  readonly additionalExtensions?: Readonly<Record<string, string>>;
  /** `rekor.ignoreTlog` (false when `rekor` is absent: Kyverno then requires the public Rekor). */
  readonly ignoreTlog: boolean;
  /** `rekor.pubkey`. */
  readonly rekorPubKey?: string;
  /** `ctlog.ignoreSCT` (false when `ctlog` is absent). */
  readonly ignoreSct: boolean;
  /** `ctlog.pubkey`. */
  readonly ctlogPubKey?: string;
  /** `ctlog.tsaCertChain`. */
  readonly tsaCertChain?: string;
  /** `signatureAlgorithm` (the entry's `keys.signatureAlgorithm`, else the attestor's). */
  readonly signatureAlgorithm?: string;
  /** Where signatures are read: the attestor's `repository`, else the verifyImages entry's. */
  readonly repository?: string;
  /** Annotations every accepted signature must carry (the attestor's, else the deprecated entry-level ones). */
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * Kyverno split this entry off a `keys.publicKeys` holding several keys: like Kyverno, the split
   * entry keeps only the key (its `rekor`, `ctlog`, `signatureAlgorithm`, `annotations` and
   * `repository` are dropped), so messages can say why the log is then required.
   */
  readonly split?: boolean;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function strings(v: unknown): Record<string, string> | undefined {
  if (!isObj(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** `rekor` / `ctlog` of a signer block, with Kyverno's defaults for an absent block. */
function logs(
  block: Record<string, unknown>,
): Pick<CosignAttestorMaterial, 'ignoreTlog' | 'rekorPubKey' | 'ignoreSct' | 'ctlogPubKey' | 'tsaCertChain'> {
  const rekor = isObj(block.rekor) ? block.rekor : undefined;
  const ctlog = isObj(block.ctlog) ? block.ctlog : undefined;
  const out: {
    ignoreTlog: boolean;
    rekorPubKey?: string;
    ignoreSct: boolean;
    ctlogPubKey?: string;
    tsaCertChain?: string;
  } = { ignoreTlog: rekor?.ignoreTlog === true, ignoreSct: ctlog?.ignoreSCT === true };
  const rk = str(rekor?.pubkey);
  if (rk) out.rekorPubKey = rk;
  const ck = str(ctlog?.pubkey);
  if (ck) out.ctlogPubKey = ck;
  const tsa = str(ctlog?.tsaCertChain);
  if (tsa) out.tsaCertChain = tsa;
  return out;
}

/**
 * The material of `entry` of the verifyImages entry `iv`, as Kyverno's `buildCosignVerifier` sets
 * its options. An entry with none of `keys`, `certificates`, `keyless` (the attestor Kyverno
 * synthesises for an attestation without attestors) has form `none`, no identity, the transparency
 * log required and SCTs not (Kyverno: "TODO: Add option to allow SCT when attestors are not provided").
 */
export function cosignAttestorMaterial(entry: Attestor, iv: ImageVerification): CosignAttestorMaterial {
  const e = entry as unknown as Record<string, unknown>;
  const sigstoreBundle = iv.type === 'SigstoreBundle';
  const common: { repository?: string; annotations?: Record<string, string>; signatureAlgorithm?: string } = {};
  const repository = str(e.repository) ?? str(iv.repository);
  if (repository) common.repository = repository;
  const annotations = strings(e.annotations) ?? strings(iv.annotations);
  if (annotations) common.annotations = annotations;
  const alg = str(e.signatureAlgorithm);
  if (alg) common.signatureAlgorithm = alg;
  const split = (entry as { [SPLIT]?: boolean })[SPLIT] === true ? { split: true } : {};
  if (isObj(e.keys)) {
    const k = e.keys;
    const out: Record<string, unknown> = { form: 'keys', sigstoreBundle, ...common, ...logs(k), ...split };
    const pk = str(k.publicKeys);
    if (pk) out.publicKeys = pk;
    else if (isObj(k.secret)) out.secret = { namespace: String(k.secret.namespace ?? ''), name: String(k.secret.name ?? '') };
    else if (str(k.kms)) out.kms = str(k.kms);
    // Kyverno: a keys entry's algorithm is `keys.signatureAlgorithm` (empty: sha256), never the attestor's
    delete out.signatureAlgorithm;
    const kalg = str(k.signatureAlgorithm);
    if (kalg) out.signatureAlgorithm = kalg;
    return out as unknown as CosignAttestorMaterial;
  }
  if (isObj(e.certificates)) {
    const c = e.certificates;
    const out: Record<string, unknown> = { form: 'certificates', sigstoreBundle, ...common, ...logs(c) };
    if (str(c.cert)) out.cert = str(c.cert);
    if (str(c.certChain)) out.certChain = str(c.certChain);
    return out as unknown as CosignAttestorMaterial;
  }
  if (isObj(e.keyless)) {
    const k = e.keyless;
    const out: Record<string, unknown> = { form: 'keyless', sigstoreBundle, ...common, ...logs(k) };
    for (const f of ['roots', 'subject', 'subjectRegExp', 'issuer', 'issuerRegExp'] as const) if (str(k[f])) out[f] = str(k[f]);
    const ext = strings(k.additionalExtensions);
    if (ext) out.additionalExtensions = ext;
    return out as unknown as CosignAttestorMaterial;
  }
  // an empty attestor: Kyverno's defaults for attestations (tlog required, SCT not)
  return { form: 'none', sigstoreBundle, ...common, ignoreTlog: false, ignoreSct: true };
}

/** Marks an entry Kyverno split off a multi-key `publicKeys`. */
const SPLIT = Symbol('vouch.kyverno.splitKey');

/**
 * Kyverno's `ExpandStaticKeys`: every `keys` entry whose `publicKeys` holds several PEM keys becomes
 * one entry per key (counted one by one against the set's `count`), each with only that key: the
 * entry's `rekor`, `ctlog`, `signatureAlgorithm`, `annotations` and `repository` are dropped, as
 * Kyverno drops them. Returns `set.entries` itself when nothing is split.
 */
export function expandStaticKeys(set: AttestorSet): Attestor[] {
  const entries = set.entries ?? [];
  let out: Attestor[] | undefined;
  entries.forEach((e, i) => {
    const pk = isObj(e.keys) ? e.keys.publicKeys : undefined;
    const keys = typeof pk === 'string' ? splitPem(pk) : [];
    if (keys.length > 1) {
      out ??= entries.slice(0, i);
      for (const k of keys) out.push(Object.assign({ keys: { publicKeys: k } }, { [SPLIT]: true }) as Attestor);
    } else if (out) out.push(e);
  });
  return out ?? entries;
}

/** Kyverno's `splitPEM`: the text up to and including each `-----END PUBLIC KEY-----`. */
export function splitPem(pem: string): string[] {
  const marker = '-----END PUBLIC KEY-----';
  const parts: string[] = [];
  let from = 0;
  for (;;) {
    const at = pem.indexOf(marker, from);
    if (at < 0) break;
    parts.push(pem.slice(from, at + marker.length));
    from = at + marker.length;
  }
  return parts;
}

/** The texts that identify a material (equal texts, equal material). */
export function cosignMaterialIdentity(m: CosignAttestorMaterial): readonly string[] {
  return [JSON.stringify(m)];
}

/** A stable hash of a Cosign material, for verification cache keys. */
export function cosignMaterialKey(m: CosignAttestorMaterial): string {
  return digestOf(utf8(`cosign\u0000${JSON.stringify(m)}`));
}

/** Kyverno's error path suffix of an entry (`.keys`, `.certificates`, `.keyless`). */
export function cosignEntryPath(entry: Attestor): string {
  if (entry.keys) return '.keys';
  if (entry.certificates) return '.certificates';
  if (entry.keyless) return '.keyless';
  return '';
}
