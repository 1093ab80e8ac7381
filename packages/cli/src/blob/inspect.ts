import { readFile, stat } from 'node:fs/promises';
import { isVouchError, Limits, VouchError } from '@vouch/core';
import type { ParsedEnvelope } from '@vouch/envelope';
import type { CliContext } from '../context.js';
import { codecFor } from '../deps.js';
import {
  ALGORITHM_NAMES,
  addSignatureTail,
  attributeValue,
  readTimestamp,
  rfc3339Nano,
  signatureJsonTail,
  sortedObject,
  type TimestampView,
} from '../format/envelope.js';
import { formatAnsic, formatRfc3339 } from '../format/time.js';
import { add, addPair, node, renderTree } from '../format/tree.js';
import { inspectSignatureFormat, positional } from './flags.js';

function signingTimeLabel(env: ParsedEnvelope): { label: string; key: string; time: Date } | undefined {
  const sa = env.signedAttributes;
  if (sa.signingTime) return { label: 'signing time', key: 'signingTime', time: sa.signingTime };
  if (sa.authenticSigningTime) return { label: 'authentic signing time', key: 'authenticSigningTime', time: sa.authenticSigningTime };
  return undefined;
}

/** notation's `blob inspect` tree (times in UTC, `Mon Jan _2 15:04:05 2006`). */
export function blobInspectTree(
  signaturePath: string,
  envelopeMediaType: string,
  env: ParsedEnvelope,
  ts: TimestampView | undefined,
): string {
  const root = node(signaturePath);
  addPair(root, 'signature algorithm', ALGORITHM_NAMES[env.algorithm] ?? env.algorithm);
  addPair(root, 'signature envelope type', envelopeMediaType);
  const signed = add(root, 'signed attributes');
  addPair(signed, 'content type', env.payloadContentType);
  addPair(signed, 'signing scheme', env.signedAttributes.signingScheme);
  const time = signingTimeLabel(env);
  if (time) addPair(signed, time.label, formatAnsic(time.time));
  if (env.signedAttributes.expiry) addPair(signed, 'expiry', formatAnsic(env.signedAttributes.expiry));
  for (const a of env.signedAttributes.extended) addPair(signed, a.key, attributeValue(a.value));
  addSignatureTail(root, env, ts, { agentLabel: 'signing agent', markEmptyUnsigned: false });
  return renderTree(root);
}

/** notation's `blob inspect -o json` document (field order as notation prints it; attribute maps sorted by key). */
export function blobInspectJson(envelopeMediaType: string, env: ParsedEnvelope, ts: TimestampView | undefined): Record<string, unknown> {
  const signed: [string, unknown][] = [
    ['contentType', env.payloadContentType],
    ['signingScheme', env.signedAttributes.signingScheme],
  ];
  const time = signingTimeLabel(env);
  if (time) signed.push([time.key, formatRfc3339(time.time)]);
  if (env.signedAttributes.expiry) signed.push(['expiry', formatRfc3339(env.signedAttributes.expiry)]);
  for (const a of env.signedAttributes.extended) signed.push([a.key, attributeValue(a.value)]);
  return {
    signatureAlgorithm: ALGORITHM_NAMES[env.algorithm] ?? env.algorithm,
    signatureEnvelopeType: envelopeMediaType,
    signedAttributes: sortedObject(signed),
    ...signatureJsonTail(env, ts, rfc3339Nano),
  };
}

/** `vouch blob inspect`: show a detached signature file as notation's tree, or JSON with `--output json`. */
export async function runBlobInspect(ctx: CliContext, sigArg: unknown): Promise<void> {
  const sigPath = positional(
    sigArg,
    `missing signature path: use \`${ctx.programName} blob inspect --help\` to see what parameters are required`,
    'signature path cannot be empty',
  );
  const { envelopeMediaType } = inspectSignatureFormat(sigPath);
  const file = ctx.resolvePath(sigPath);
  let bytes: Uint8Array;
  try {
    const st = await stat(file);
    if (st.size > Limits.MAX_ENVELOPE_BYTES) {
      throw new VouchError(
        'ERR_SIZE_LIMIT_EXCEEDED',
        `failed to read signature file: ${sigPath} is ${st.size} bytes, over the ${Limits.MAX_ENVELOPE_BYTES}-byte limit`,
      );
    }
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    if (isVouchError(e)) throw e;
    throw new VouchError('ERR_IO', `failed to read signature file: ${(e as Error).message}`, { cause: e, details: { path: file } });
  }
  const codec = codecFor(envelopeMediaType);
  if (!codec) throw new VouchError('ERR_UNSUPPORTED', `the ${envelopeMediaType} envelope format is not available in this build`);
  let env: ParsedEnvelope;
  try {
    env = codec.parse(bytes);
  } catch (e) {
    const code = isVouchError(e) ? e.code : 'ERR_ENVELOPE_MALFORMED';
    throw new VouchError(code, `failed to parse signature: ${(e as Error).message}`, { cause: e, details: { path: file } });
  }
  const ts = await readTimestamp(env);
  if (ctx.json) ctx.result(blobInspectJson(envelopeMediaType, env, ts));
  else ctx.out(blobInspectTree(sigPath, envelopeMediaType, env, ts));
}
