import { describe, expect, it } from 'vitest';
import { resolveVerificationLevel, VERIFICATION_LEVELS } from './level.js';
import type { SignatureVerification } from './types.js';

const E = 'enforce';
const L = 'log';
const S = 'skip';
const row = (integrity: string, authenticity: string, authenticTimestamp: string, expiry: string, revocation: string) => ({
  integrity,
  authenticity,
  authenticTimestamp,
  expiry,
  revocation,
});

describe('resolveVerificationLevel', () => {
  it.each([
    ['strict', row(E, E, E, E, E)],
    ['permissive', row(E, E, L, L, L)],
    ['audit', row(E, L, L, L, L)],
    ['skip', row(S, S, S, S, S)],
  ] as const)('level %s follows the specification table', (level, actions) => {
    const r = resolveVerificationLevel({ level });
    expect(r).toEqual({ level, custom: false, actions, verifyTimestamp: 'always' });
    expect(VERIFICATION_LEVELS[level]).toEqual(actions);
  });

  it.each([
    ['strict', { authenticity: 'log' }, row(E, L, E, E, E)],
    ['permissive', { authenticity: 'log' }, row(E, L, L, L, L)],
    ['audit', { authenticity: 'enforce' }, row(E, E, L, L, L)],
    ['strict', { expiry: 'log' }, row(E, E, E, L, E)],
    ['audit', { expiry: 'enforce' }, row(E, L, L, E, L)],
    ['strict', { revocation: 'log' }, row(E, E, E, E, L)],
    ['strict', { revocation: 'skip' }, row(E, E, E, E, S)],
    ['permissive', { revocation: 'skip' }, row(E, E, L, L, S)],
    ['audit', { revocation: 'skip' }, row(E, L, L, L, S)],
    ['strict', { authenticTimestamp: 'log' }, row(E, E, L, E, E)],
    ['permissive', { authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' }, row(E, E, E, E, E)],
  ] as const)('%s with override %j', (level, override, actions) => {
    const r = resolveVerificationLevel({ level, override } as SignatureVerification);
    expect(r.actions).toEqual(actions);
    expect(r.custom).toBe(true);
    expect(r.level).toBe(level);
  });

  it('an empty override is not custom; skip may carry an empty override', () => {
    expect(resolveVerificationLevel({ level: 'strict', override: {} }).custom).toBe(false);
    expect(resolveVerificationLevel({ level: 'skip', override: {} }).actions).toEqual(row(S, S, S, S, S));
  });

  it.each([
    ['missing level', {}],
    ['empty level', { level: '' }],
    ['null', null],
    ['not an object', 'strict'],
    ['unknown level', { level: 'invalid' }],
    ['level with wrong case', { level: 'Strict' }],
    ['override integrity', { level: 'strict', override: { integrity: 'log' } }],
    ['override integrity enforce', { level: 'strict', override: { integrity: 'enforce' } }],
    ['skip authenticity', { level: 'strict', override: { authenticity: 'skip' } }],
    ['skip authenticTimestamp', { level: 'strict', override: { authenticTimestamp: 'skip' } }],
    ['skip expiry', { level: 'strict', override: { expiry: 'skip' } }],
    ['override on skip', { level: 'skip', override: { authenticity: 'log' } }],
    ['override on unknown level', { level: 'invalid', override: { authenticity: 'log' } }],
    ['unknown override key', { level: 'strict', override: { invalid: 'log' } }],
    ['prototype override key', { level: 'strict', override: JSON.parse('{"__proto__":"log"}') }],
    ['unknown override value', { level: 'strict', override: { authenticity: 'invalid' } }],
    ['non-string override value', { level: 'strict', override: { authenticity: 1 } }],
    ['override not an object', { level: 'strict', override: ['log'] }],
    ['bad verifyTimestamp', { level: 'strict', verifyTimestamp: 'invalid' }],
    ['bad verifyTimestamp on skip', { level: 'skip', verifyTimestamp: 'never' }],
  ])('rejects %s with ERR_TRUST_POLICY_INVALID', (_, sv) => {
    expect(() => resolveVerificationLevel(sv as SignatureVerification)).toThrowWithCode('ERR_TRUST_POLICY_INVALID');
  });

  it('resolves verifyTimestamp, defaulting to always', () => {
    expect(resolveVerificationLevel({ level: 'strict', verifyTimestamp: 'afterCertExpiry' }).verifyTimestamp).toBe('afterCertExpiry');
    expect(resolveVerificationLevel({ level: 'strict', verifyTimestamp: 'always' }).verifyTimestamp).toBe('always');
    expect(resolveVerificationLevel({ level: 'strict', verifyTimestamp: '' as 'always' }).verifyTimestamp).toBe('always');
  });

  it('returns frozen results that do not alias the level table', () => {
    const r = resolveVerificationLevel({ level: 'strict', override: { expiry: 'log' } });
    expect(Object.isFrozen(r.actions)).toBe(true);
    expect(VERIFICATION_LEVELS.strict.expiry).toBe('enforce');
  });
});
