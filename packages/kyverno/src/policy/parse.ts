import { VouchError } from '@vouch/core';
import { type Document, LineCounter, parseAllDocuments } from 'yaml';
import type { KyvernoPolicy } from '../types.js';
import { isObj } from '../util.js';
import { applyDefaults, fillBooleans } from './defaults.js';
import { formatPath, type Locator, makeLocator } from './locate.js';
import type { Problem } from './schema.js';
import { findUnsupported } from './support.js';
import { validatePolicy } from './validate.js';

/** Options for {@link parsePolicies} and {@link policyFromObject}. */
export interface ParsePolicyOptions {
  /** File name used in error messages. */
  source?: string;
  /** Apply CRD defaults (default true). Kyverno's Go unit tests decode without them. */
  applyDefaults?: boolean;
  /** Skip YAML documents that are not ClusterPolicy/Policy instead of failing (default false). */
  ignoreOtherKinds?: boolean;
  /** Run Kyverno's policy validation (default true). */
  validate?: boolean;
  /**
   * Refuse a policy using a construct vouch does not evaluate (see `KYVERNO_SUPPORT`): throws
   * VouchError ERR_UNSUPPORTED naming `file:line:column`, the construct and the path (default false;
   * the admission webhook's loader sets it, `kyverno apply|test` fail such rules instead).
   */
  rejectUnsupported?: boolean;
}

/**
 * Parses ClusterPolicy / Policy documents (kyverno.io/v1 and v2beta1) from YAML or JSON text
 * (multi-document), applies the CRD defaults and runs Kyverno's policy validation. Every problem
 * throws VouchError ERR_KYVERNO_POLICY_INVALID whose message names `file:line:column`, the field, and
 * what to write instead; `details` carry `{line, column, path, problems[]}`.
 * @example
 * ```ts
 * import { hasCode } from '@vouch/core';
 * import { parsePolicies } from '@vouch/kyverno';
 *
 * try {
 *   const policies = parsePolicies(await readFile('policies.yaml', 'utf8'), { source: 'policies.yaml' });
 *   console.log(policies.map((p) => `${p.kind}/${p.metadata.name}`));
 * } catch (e) {
 *   if (hasCode(e, 'ERR_KYVERNO_POLICY_INVALID')) console.error(e.message); // policies.yaml:12:7: …
 *   else throw e;
 * }
 * ```
 */
export function parsePolicies(text: string, options: ParsePolicyOptions = {}): KyvernoPolicy[] {
  const lc = new LineCounter();
  let docs: Document[];
  try {
    docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false }) as Document[];
    if (!Array.isArray(docs)) docs = [docs as unknown as Document];
  } catch (e) {
    throw new VouchError('ERR_KYVERNO_POLICY_INVALID', `${options.source ?? '<input>'}: cannot parse YAML: ${(e as Error).message}`, {
      cause: e,
      details: {},
    });
  }
  const out: KyvernoPolicy[] = [];
  docs.forEach((doc, i) => {
    const err = doc.errors[0];
    if (err) {
      const lp = lc.linePos(err.pos[0]);
      const tabHint = /tab/i.test(err.message) ? 'indent with spaces, not tabs' : '';
      throw new VouchError(
        'ERR_KYVERNO_POLICY_INVALID',
        `${options.source ?? '<input>'}:${lp.line}:${lp.col}: YAML syntax error: ${err.message.split('\n')[0]}; ${tabHint || 'check the indentation: a nested field is indented further than its parent, list items start with "- ", and siblings line up exactly'}`,
        { cause: err, details: { line: lp.line, column: lp.col, path: '', source: options.source, document: i } },
      );
    }
    if (doc.contents === null) return;
    let js: unknown;
    try {
      // a JSON copy: a YAML alias becomes its own object, as in policyFromObject (the engine keys its memos by object)
      js = JSON.parse(JSON.stringify(doc.toJS({ maxAliasCount: 100 }) ?? null));
    } catch (e) {
      throw new VouchError(
        'ERR_KYVERNO_POLICY_INVALID',
        `${options.source ?? '<input>'}: cannot convert YAML document ${i + 1}: ${(e as Error).message}`,
        { cause: e, details: { document: i } },
      );
    }
    if (js === null || js === undefined) return;
    const p = finish(js, options, makeLocator(doc, lc), i);
    if (p) out.push(p);
  });
  return out;
}

/** Builds a policy from an already-decoded object (JSON), with the same defaults and validation as {@link parsePolicies}. */
export function policyFromObject(obj: unknown, options: ParsePolicyOptions = {}): KyvernoPolicy {
  const copy = JSON.parse(JSON.stringify(obj ?? null));
  const p = finish(copy, { ...options, ignoreOtherKinds: false }, undefined, 0);
  return p as KyvernoPolicy;
}

/** One decoded document to a policy: kind and apiVersion, defaults, validation, and (optionally) the support check. */
function finish(obj: unknown, opts: ParsePolicyOptions, locate: Locator | undefined, docIndex: number): KyvernoPolicy | undefined {
  const out: Problem[] = [];
  if (!isObj(obj)) {
    out.push({
      path: [],
      message: 'a policy document must be a mapping',
      hint: 'start with `apiVersion: kyverno.io/v1` and `kind: ClusterPolicy`',
    });
    throw problemError(out, locate, opts.source, docIndex);
  }
  const kind = obj.kind;
  const apiVersion = obj.apiVersion;
  if (kind !== 'ClusterPolicy' && kind !== 'Policy') {
    if (opts.ignoreOtherKinds) return undefined;
    out.push({
      path: ['kind'],
      message: `unsupported kind ${JSON.stringify(kind)}`,
      hint: 'write `kind: ClusterPolicy` or `kind: Policy`',
    });
    throw problemError(out, locate, opts.source, docIndex);
  }
  if (apiVersion !== 'kyverno.io/v1' && apiVersion !== 'kyverno.io/v2beta1') {
    out.push({
      path: ['apiVersion'],
      message: `unsupported apiVersion ${JSON.stringify(apiVersion)} for ${kind}`,
      hint: 'write `apiVersion: kyverno.io/v1` (or kyverno.io/v2beta1)',
    });
    throw problemError(out, locate, opts.source, docIndex);
  }
  if (obj.spec === undefined || obj.spec === null) obj.spec = {};
  // CRD defaulting happens before validation (as in the API server / kubectl-validate).
  if (isObj(obj.spec)) {
    if (opts.applyDefaults !== false) applyDefaults(obj);
    else fillBooleans(obj);
  }
  if (opts.validate !== false) validatePolicy(obj, out);
  if (out.length > 0) throw problemError(out, locate, opts.source, docIndex);
  const spec = obj.spec as Record<string, unknown>;
  spec.rules ??= [];
  if (opts.rejectUnsupported) {
    const found = findUnsupported(obj as unknown as KyvernoPolicy);
    if (found.length > 0) {
      const problems = found.map((u) => ({
        path: u.path,
        atKey: typeof u.path[u.path.length - 1] === 'string',
        message: `vouch cannot evaluate ${u.what}${u.rule ? ` (rule ${u.rule})` : ''}`,
        hint: 'a policy vouch cannot evaluate is refused rather than enforced in part; remove the construct or keep this policy for Kyverno',
      }));
      throw problemError(problems, locate, opts.source, docIndex, 'ERR_UNSUPPORTED');
    }
  }
  return obj as unknown as KyvernoPolicy;
}

/** The error for a document's problems: the first one located in the message, every one in `details.problems`. */
function problemError(
  problems: Problem[],
  locate: Locator | undefined,
  source: string | undefined,
  docIndex: number,
  code: 'ERR_KYVERNO_POLICY_INVALID' | 'ERR_UNSUPPORTED' = 'ERR_KYVERNO_POLICY_INVALID',
): VouchError {
  const p = problems[0]!;
  const pos = locate?.(p.path, p.atKey);
  const where = pos ? `${source ?? '<input>'}:${pos.line}:${pos.column}` : (source ?? '<input>');
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  const msg = `${where}: ${p.message} at ${formatPath(p.path) || '<document>'}${p.hint ? `; ${p.hint}` : ''}${more}`;
  const all = problems.map((q) => {
    const qp = locate?.(q.path, q.atKey);
    return { message: q.message, hint: q.hint, path: formatPath(q.path), line: qp?.line, column: qp?.column };
  });
  return new VouchError(code, msg, {
    details: { line: pos?.line, column: pos?.column, path: formatPath(p.path), source, document: docIndex, problems: all },
  });
}
