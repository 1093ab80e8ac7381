import type { EnvelopeCodec } from '@vouch/envelope';
import { cose } from '@vouch/envelope/cose';
import { jws } from '@vouch/envelope/jws';
import { createVerifier, type Verifier, type VerifierConfig } from '@vouch/notation';
import type { OciTrustPolicyDocument, TrustStore } from '@vouch/trust-policy';
import { type FileTrustStore, fileTrustStore } from '../truststore/file-trust-store.js';
import { notationConfigDir } from './dirs.js';
import { loadOciTrustPolicy } from './policy.js';

/** Options of {@link createNodeVerifier}: a notation config dir plus any {@link VerifierConfig} field. */
export interface NodeVerifierOptions extends Partial<Omit<VerifierConfig, 'trustPolicy' | 'trustStore' | 'envelopes'>> {
  /** Notation config dir; default `notationConfigDir()` ($XDG_CONFIG_HOME/notation …). */
  configDir?: string;
  /** Use this policy instead of the config dir's `trustpolicy.json` / `trustpolicy.oci.json`. */
  trustPolicy?: OciTrustPolicyDocument | string | Uint8Array | object;
  /** Use this store instead of the config dir's `truststore/x509/`. */
  trustStore?: TrustStore;
  /** Envelope codecs; default JWS and COSE. */
  envelopes?: readonly EnvelopeCodec[];
}

/** A {@link Verifier} bound to a notation config dir. */
export interface NodeVerifier extends Verifier {
  readonly configDir: string;
  readonly trustStore: TrustStore;
}

/**
 * A reusable verifier configured the way the `notation` CLI is: trust policy from the config
 * dir (validated once, here), the file trust store of the config dir (parsed once per store,
 * re-read when its files change), JWS and COSE envelopes. Throws what
 * {@link loadOciTrustPolicy} throws when the policy is missing or invalid.
 * @example
 * ```ts
 * import { createNodeVerifier } from '@vouch/node';
 *
 * const verifier = await createNodeVerifier(); // $XDG_CONFIG_HOME/notation: trustpolicy.json, truststore/
 * const result = await verifier.verify('registry.example.com/team/app@sha256:…');
 * console.log(result.policy.name, result.warnings);
 * ```
 */
export async function createNodeVerifier(options: NodeVerifierOptions = {}): Promise<NodeVerifier> {
  const configDir = notationConfigDir(options.configDir ? { configDir: options.configDir } : {});
  const rest: NodeVerifierOptions = { ...options };
  delete rest.configDir;
  delete rest.trustPolicy;
  delete rest.trustStore;
  delete rest.envelopes;
  const store: TrustStore | FileTrustStore = options.trustStore ?? fileTrustStore(configDir);
  const verifier = createVerifier({
    ...rest,
    trustPolicy: options.trustPolicy ?? (await loadOciTrustPolicy(configDir)),
    trustStore: store,
    envelopes: options.envelopes ?? [jws, cose],
  });
  return {
    verify: (reference, callOptions) => verifier.verify(reference, callOptions),
    verifySignature: (input) => verifier.verifySignature(input),
    configDir,
    trustStore: store,
  };
}
