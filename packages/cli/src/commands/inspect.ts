import { type Descriptor, MediaType, toVouchError, VouchError } from '@vouch/core';
import type { ParsedEnvelope } from '@vouch/envelope';
import { parseSignatureManifest } from '@vouch/registry';
import { timestampRange } from '@vouch/x509/tsp';
import type { Command } from 'commander';
import { act, addRegistryOptions } from '../command.js';
import type { CliContext } from '../context.js';
import { codecFor } from '../deps.js';
import {
  ALGORITHM_NAMES,
  addCertificates,
  attributeValue,
  certJson,
  readTimestamp,
  rfc3339Nano,
  sortedObject,
  type TimestampView,
} from '../format/envelope.js';
import { formatAnsic, formatRfc3339 } from '../format/time.js';
import { add, addPair, node, renderTree, type TreeNode } from '../format/tree.js';
import { artifactSignatures } from '../signatures.js';

interface Inspected {
  manifest: Descriptor;
  envelopeMediaType: string;
  envelope: ParsedEnvelope;
  timestamp?: TimestampView | undefined;
}

function signatureNode(s: Inspected): TreeNode {
  const env = s.envelope;
  const sig = node(s.manifest.digest);
  addPair(sig, 'signature algorithm', ALGORITHM_NAMES[env.algorithm] ?? env.algorithm);
  addPair(sig, 'signature envelope type', s.envelopeMediaType);
  const signed = add(sig, 'signed attributes');
  addPair(signed, 'content type', env.payloadContentType);
  addPair(signed, 'signing scheme', env.signedAttributes.signingScheme);
  const time = env.signedAttributes.signingTime ?? env.signedAttributes.authenticSigningTime;
  if (time) addPair(signed, 'signing time', formatAnsic(time));
  if (env.signedAttributes.expiry) addPair(signed, 'expiry', formatAnsic(env.signedAttributes.expiry));
  for (const a of env.signedAttributes.extended) addPair(signed, a.key, attributeValue(a.value));
  const user = add(sig, 'user defined attributes');
  const annotations = env.payload.targetArtifact.annotations ?? {};
  const keys = Object.keys(annotations).sort();
  if (keys.length === 0) add(user, '(empty)');
  for (const k of keys) addPair(user, k, annotations[k]!);
  const unsigned = add(sig, 'unsigned attributes');
  if (env.unsignedAttributes.signingAgent) addPair(unsigned, 'signing agent', env.unsignedAttributes.signingAgent);
  if (s.timestamp) {
    const ts = add(unsigned, 'timestamp signature');
    if (s.timestamp.token) {
      const { earliest, latest } = timestampRange(s.timestamp.token);
      addPair(ts, 'timestamp', `[${formatAnsic(earliest)}, ${formatAnsic(latest)}]`);
      addCertificates(ts, s.timestamp.token.certificates);
    } else {
      addPair(ts, 'error', s.timestamp.error ?? 'unknown error');
    }
  }
  addCertificates(sig, env.certificateChain);
  const art = add(sig, 'signed artifact');
  const t = env.payload.targetArtifact;
  addPair(art, 'media type', t.mediaType);
  addPair(art, 'digest', t.digest);
  addPair(art, 'size', String(t.size));
  return sig;
}

/** One signature in notation's `inspect -o json` shape (field order as notation prints it; attribute maps sorted by key). */
function signatureJson(s: Inspected): Record<string, unknown> {
  const env = s.envelope;
  const signed: [string, unknown][] = [
    ['contentType', env.payloadContentType],
    ['signingScheme', env.signedAttributes.signingScheme],
  ];
  const time = env.signedAttributes.signingTime ?? env.signedAttributes.authenticSigningTime;
  if (time) signed.push(['signingTime', formatRfc3339(time)]);
  if (env.signedAttributes.expiry) signed.push(['expiry', formatRfc3339(env.signedAttributes.expiry)]);
  for (const a of env.signedAttributes.extended) signed.push([a.key, attributeValue(a.value)]);
  const unsignedAttributes: Record<string, unknown> = {};
  if (env.unsignedAttributes.signingAgent) unsignedAttributes.signingAgent = env.unsignedAttributes.signingAgent;
  if (s.timestamp?.token) {
    const { earliest, latest } = timestampRange(s.timestamp.token);
    unsignedAttributes.timestampSignature = {
      timestamp: `[${rfc3339Nano(earliest)}, ${rfc3339Nano(latest)}]`,
      certificates: s.timestamp.token.certificates.map(certJson),
    };
  } else if (s.timestamp?.error) {
    unsignedAttributes.timestampSignature = { error: s.timestamp.error };
  }
  const t = env.payload.targetArtifact;
  const annotations = t.annotations && Object.keys(t.annotations).length > 0 ? sortedObject(Object.entries(t.annotations)) : null;
  return {
    digest: s.manifest.digest,
    signatureAlgorithm: ALGORITHM_NAMES[env.algorithm] ?? env.algorithm,
    signatureEnvelopeType: s.envelopeMediaType,
    signedAttributes: sortedObject(signed),
    userDefinedAttributes: annotations,
    unsignedAttributes,
    certificates: env.certificateChain.map(certJson),
    signedArtifact: { mediaType: t.mediaType, digest: t.digest, size: t.size },
  };
}

/** `vouch inspect`: show the signatures of an artifact as notation's tree (or JSON). */
export function registerInspect(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('inspect')
    .description('Inspect all signatures associated with the signed artifact')
    .argument('<reference>', 'artifact reference (with --oci-layout: <path>@<digest> or <path>:<tag>)')
    .option('--oci-layout', 'the artifact is in an OCI image layout directory')
    .option('--max-signatures <n>', 'maximum number of signatures to inspect', '100');
  addRegistryOptions(cmd);
  act(cmd, ctx, async ([reference], opts) => {
    const { target, artifact, display, signatures: sigs } = await artifactSignatures(ctx, reference, opts, 'inspect');
    const inspected: Inspected[] = [];
    let skipped = 0;
    for (const d of sigs) {
      try {
        const { bytes } = await target.repository.fetchManifest(d);
        const sm = parseSignatureManifest(bytes, d.mediaType);
        const codec = codecFor(sm.envelope.mediaType);
        if (!codec) throw new VouchError('ERR_ENVELOPE_UNSUPPORTED', `unsupported signature envelope type ${sm.envelope.mediaType}`);
        const envBytes = await target.repository.fetchBlob(sm.envelope);
        const envelope = codec.parse(envBytes);
        const timestamp = await readTimestamp(envelope);
        inspected.push({ manifest: d, envelopeMediaType: sm.envelope.mediaType, envelope, ...(timestamp ? { timestamp } : {}) });
      } catch (e) {
        skipped++;
        const err = toVouchError(e, 'ERR_SIGNATURE_RETRIEVAL_FAILED', `signature ${d.digest} could not be read`);
        ctx.warn(`Warning: Skipping signature ${d.digest} because of error: ${err.message}`);
      }
    }
    if (ctx.json) {
      ctx.result({ mediaType: artifact.mediaType, signatures: inspected.map(signatureJson) });
    } else if (inspected.length === 0 && skipped === 0) {
      ctx.line(`${display} has no associated signature`);
    } else if (inspected.length > 0) {
      ctx.line('Inspecting all signatures for signed artifact');
      const root = node(display);
      const type = add(root, MediaType.NOTARY_SIGNATURE);
      for (const s of inspected) type.children.push(signatureNode(s));
      ctx.out(renderTree(root));
    }
    if (skipped > 0) {
      throw new VouchError('ERR_SIGNATURE_RETRIEVAL_FAILED', 'at least one signature was skipped and not displayed', {
        details: { skipped },
      });
    }
  });
}
