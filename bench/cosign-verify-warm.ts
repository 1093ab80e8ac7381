/**
 * cosign-verify-warm-vs-crypto: warm verification of one key-signed cosign signature with its
 * Rekor SET (`verifyCosignSignature`: a simple-signing payload, its signature, and the
 * `dev.sigstore.cosign/bundle` annotation), divided by the throughput of the raw WebCrypto checks
 * that verification cannot avoid, measured in the same process. Target ≥ 0.5.
 *
 * What one call must redo every time: read the annotation (JSON, base64), read the hashedrekord
 * body and check that it names this signature, this key and this payload digest, build the SET's
 * canonical payload, and verify both signatures. What it may keep between calls: the parsed trust
 * material (keys, Rekor key) and imported WebCrypto keys.
 *
 * The baseline is exactly the 2 WebCrypto `verify` calls of that work, on the same bytes: the
 * payload signature with the signing key and the SET with the Rekor key (ECDSA P-256, SHA-256),
 * keys imported once, measured sequentially and concurrently, the faster being the denominator.
 * Rounds are interleaved (see bench/util.ts) and the figure is the median of per-round ratios.
 */
import { encodePem, utf8 } from '@vouch/core';
import { ecdsaDerToP1363, fromBase64 } from '@vouch/core/internal';
import { trustMaterialFromPem, verifyCosignSignature } from '@vouch/sigstore';
import {
  createTestLog,
  generateEcdsa,
  hashedRekordBody,
  rekorBundleAnnotation,
  setPayload,
  signBytes,
  spkiOf,
} from '@vouch/testing/sigstore';
import { countWebCrypto, emitVsRawChecks, type RawCheck } from './util.js';

const ab = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);

export async function benchCosignVerifyWarm(name: string): Promise<void> {
  const subtle = globalThis.crypto.subtle;
  const rekor = await createTestLog('v1');
  const signer = await generateEcdsa();
  const spki = await spkiOf(signer.publicKey);
  const payload = utf8(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': 'registry.test/app' },
        image: { 'docker-manifest-digest': `sha256:${'ab'.repeat(32)}` },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
  const signature = await signBytes(signer.privateKey, payload);
  const entry = await rekor.append(hashedRekordBody(payload, signature, { spki }), { setOnly: true, padding: 3 });
  const annotation = rekorBundleAnnotation(entry);
  const trust = trustMaterialFromPem({ publicKeys: encodePem('PUBLIC KEY', spki), rekorPublicKeys: rekor.publicKeyPem });
  const once = async () => {
    await verifyCosignSignature({ content: { type: 'message', payload, signature }, rekorBundle: annotation }, { trust });
  };
  await once();

  const ecdsa = { name: 'ECDSA', hash: 'SHA-256' };
  const importKey = (der: Uint8Array) => subtle.importKey('spki', ab(der), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const setBytes = setPayload(fromBase64(entry.canonicalizedBody), Number(entry.integratedTime), rekor.logId, Number(entry.logIndex));
  const checks: RawCheck[] = [
    { params: ecdsa, key: await importKey(spki), signature: ab(ecdsaDerToP1363(signature, 32)), data: ab(payload) },
    {
      params: ecdsa,
      key: await importKey(rekor.spki),
      signature: ab(ecdsaDerToP1363(fromBase64(entry.inclusionPromise!.signedEntryTimestamp), 32)),
      data: ab(setBytes),
    },
  ];
  const counts = `per call: ${[...(await countWebCrypto(once))].map(([k, v]) => `${v} ${k}`).join(', ')}`;
  await emitVsRawChecks(name, once, checks, counts);
}
