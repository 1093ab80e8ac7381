// Test-only helpers (Node): make throwaway keys and self-signed code-signing certificates with
// the openssl CLI, the way a plugin author would for a local test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeySpec } from '../constants.js';

/** True when the openssl CLI runs. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Skip notice per the repository rules: missing tool is a failure under CI=true. */
export function requireOpenssl(): boolean {
  if (hasOpenssl()) return true;
  if (process.env.CI === 'true') throw new Error('openssl is required under CI=true');
  console.warn('NOTICE: openssl not found; skipping tests that need certificates');
  return false;
}

export interface TestKey {
  keySpec: KeySpec;
  /** PKCS#8 PEM private key. */
  keyPem: string;
  /** DER certificate. */
  certDer: Uint8Array;
}

/** A fresh key of `keySpec` with a self-signed code-signing certificate. */
export function makeTestKey(keySpec: KeySpec, subject = '/CN=vouch plugin test/O=vouch'): TestKey {
  const dir = mkdtempSync(join(tmpdir(), 'vouch-plugin-cert-'));
  try {
    const [type, size] = keySpec.split('-') as ['RSA' | 'EC', string];
    const newkey = type === 'RSA' ? ['-newkey', `rsa:${size}`] : ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:P-${size}`];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        ...newkey,
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.der'),
        '-outform',
        'DER',
        '-days',
        '2',
        '-subj',
        subject,
        '-addext',
        'basicConstraints=critical,CA:FALSE',
        '-addext',
        'keyUsage=critical,digitalSignature',
        '-addext',
        'extendedKeyUsage=codeSigning',
      ],
      { stdio: 'pipe' },
    );
    return { keySpec, keyPem: readFileSync(join(dir, 'key.pem'), 'utf8'), certDer: new Uint8Array(readFileSync(join(dir, 'cert.der'))) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
