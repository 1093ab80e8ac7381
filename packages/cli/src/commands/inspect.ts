import { type Descriptor, MediaType, VouchError } from '@vouch/core';
import { toVouchError } from '@vouch/core/internal';
import type { ParsedEnvelope } from '@vouch/envelope';
import { parseSignatureManifest } from '@vouch/registry';
import type { Command } from 'commander';
import { act, addRegistryOptions } from '../command.js';
import type { CliContext } from '../context.js';
import { codecFor } from '../deps.js';
import {
  ALGORITHM_NAMES,
  addSignatureTail,
  attributeValue,
  readTimestamp,
  signatureJsonTail,
  sortedEntries,
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

/**
 * The signed attributes as notation 1.3 shows them: one map of signingScheme, signingTime (or
 * the authentic signing time), expiry and the extended attributes (value as text). notation
 * prints a Go map, in random order in text and sorted in JSON; vouch sorts both.
 */
function signedAttributes(env: ParsedEnvelope, time: (d: Date) => string): [string, string][] {
  const out: [string, string][] = [['signingScheme', env.signedAttributes.signingScheme]];
  const signingTime = env.signedAttributes.signingTime ?? env.signedAttributes.authenticSigningTime;
  if (signingTime) out.push(['signingTime', time(signingTime)]);
  if (env.signedAttributes.expiry) out.push(['expiry', time(env.signedAttributes.expiry)]);
  for (const a of env.signedAttributes.extended) out.push([a.key, attributeValue(a.value)]);
  return sortedEntries(out);
}

/** One signature as a node of notation 1.3's `inspect` tree. */
function signatureNode(s: Inspected): TreeNode {
  const env = s.envelope;
  const sig = node(s.manifest.digest);
  addPair(sig, 'media type', s.envelopeMediaType);
  addPair(sig, 'signature algorithm', ALGORITHM_NAMES[env.algorithm] ?? env.algorithm);
  const signed = add(sig, 'signed attributes');
  for (const [k, v] of signedAttributes(env, formatAnsic)) addPair(signed, k, v);
  addSignatureTail(sig, env, s.timestamp, { agentLabel: 'signingAgent', markEmptyUnsigned: true });
  return sig;
}

/** One signature in notation 1.3's `inspect -o json` shape (its field order; attribute maps sorted by key, as Go prints maps). */
function signatureJson(s: Inspected): Record<string, unknown> {
  const env = s.envelope;
  return {
    mediaType: s.envelopeMediaType,
    digest: s.manifest.digest,
    signatureAlgorithm: ALGORITHM_NAMES[env.algorithm] ?? env.algorithm,
    signedAttributes: Object.fromEntries(signedAttributes(env, formatRfc3339)),
    ...signatureJsonTail(env, s.timestamp, formatRfc3339),
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
      // notation 1.3 names the list `Signatures` (its Go field has no JSON tag)
      ctx.result({ mediaType: artifact.mediaType, Signatures: inspected.map(signatureJson) });
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
