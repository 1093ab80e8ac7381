import { describe, expect, it } from 'vitest';
import { policyFromObject } from '../policy/parse.js';
import { createKyvernoEngine, evaluateResource } from './engine.js';

// Kyverno's pattern failure message: `validation error: <message>` ending in exactly one period
// (added when missing), then `rule <name> failed at path <path>`; without a message, no period.
describe('validate pattern failure message', () => {
  const run = async (message?: string) => {
    const policy = policyFromObject({
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'p' },
      spec: {
        rules: [
          {
            name: 'need-label',
            match: { any: [{ resources: { kinds: ['Pod'] } }] },
            validate: { ...(message === undefined ? {} : { message }), pattern: { metadata: { labels: { foo: 'bar' } } } },
          },
        ],
      },
    });
    const r = await evaluateResource(createKyvernoEngine({ policies: [policy] }), {
      resource: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'default', labels: { a: 'b' } }, spec: {} },
    });
    return r.validation[0]!.rules[0]!.message;
  };

  it('adds the period only when the message lacks one', async () => {
    expect(await run('Label foo must be bar.')).toBe(
      'validation error: Label foo must be bar. rule need-label failed at path /metadata/labels/foo/',
    );
    expect(await run('Label foo must be bar')).toBe(
      'validation error: Label foo must be bar. rule need-label failed at path /metadata/labels/foo/',
    );
    expect(await run()).toBe('validation error: rule need-label failed at path /metadata/labels/foo/');
  });
});
