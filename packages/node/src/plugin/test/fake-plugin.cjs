#!/usr/bin/env node
// A misbehaving plugin executable for host tests. FAKE_MODE selects the misbehaviour;
// FAKE_NAME sets the reported name (default io.vouch.test.fake).
// CommonJS on purpose (see spec-plugin.cjs).
const { constants, createPrivateKey, sign } = require('node:crypto');
const { writeFileSync } = require('node:fs');

const mode = process.env.FAKE_MODE ?? 'ok';
const name = process.env.FAKE_NAME ?? 'io.vouch.test.fake';
const command = process.argv[2];
const metadata = {
  name,
  description: 'fake',
  version: process.env.FAKE_VERSION ?? '1.0.0',
  url: 'https://example.invalid',
  supportedContractVersions: ['1.0'],
  capabilities: ['SIGNATURE_GENERATOR.RAW'],
};

async function main() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const req = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};

  const signed = (keySpecReported, certB64) => {
    const key = createPrivateKey(process.env.SPEC_PLUGIN_KEY_PEM);
    const payload = Buffer.from(req.payload, 'base64');
    const sig = process.env.SPEC_PLUGIN_KEY_SPEC.startsWith('RSA')
      ? sign('sha256', payload, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
      : sign('sha256', payload, { key, dsaEncoding: 'ieee-p1363' });
    return { keyId: req.keyId, signature: sig.toString('base64'), signingAlgorithm: keySpecReported, certificateChain: [certB64] };
  };

  switch (mode) {
    case 'bad-json':
      process.stdout.write('{"name": "half');
      break;
    case 'bad-shape':
      process.stdout.write(JSON.stringify({ ...metadata, capabilities: 'SIGNATURE_GENERATOR.RAW' }));
      break;
    case 'oversized-stdout':
      process.stdout.write('x'.repeat(3 * 1024 * 1024));
      break;
    case 'oversized-stderr':
      process.stderr.write('y'.repeat(3 * 1024 * 1024));
      process.exitCode = 1;
      break;
    case 'slow':
      if (process.env.FAKE_PID_FILE) writeFileSync(process.env.FAKE_PID_FILE, String(process.pid));
      setTimeout(() => process.stdout.write(JSON.stringify(metadata)), 60_000);
      break;
    case 'error-body':
      process.stderr.write(
        JSON.stringify({ errorCode: 'THROTTLED', errorMessage: 'too many requests', errorMetadata: { retryAfter: '7' } }),
      );
      process.exitCode = 1;
      break;
    case 'bad-error-body':
      process.stderr.write(JSON.stringify({ errorCode: 'KABOOM', errorMessage: 'x' }));
      process.exitCode = 1;
      break;
    case 'stderr-garbage':
      process.stderr.write('panic: something went wrong\n');
      process.exitCode = 2;
      break;
    case 'silent-failure':
      process.exitCode = 3;
      break;
    case 'crash':
      process.kill(process.pid, 'SIGKILL');
      break;
    case 'env':
      process.stdout.write(JSON.stringify({ ...metadata, description: `${process.env.FAKE_ECHO ?? ''}|${process.env.HOME ?? 'no-home'}` }));
      break;
    default:
      if (command === 'get-plugin-metadata') process.stdout.write(JSON.stringify(metadata));
      else if (command === 'describe-key')
        process.stdout.write(JSON.stringify({ keyId: req.keyId, keySpec: process.env.SPEC_PLUGIN_KEY_SPEC }));
      else if (command === 'generate-signature') {
        // Lies: 'wrong-alg' reports an algorithm other than the key's; 'wrong-cert' returns someone else's certificate.
        if (mode === 'wrong-alg') process.stdout.write(JSON.stringify(signed('ECDSA-SHA-512', process.env.SPEC_PLUGIN_CERT_B64)));
        else if (mode === 'wrong-cert') process.stdout.write(JSON.stringify(signed('ECDSA-SHA-256', process.env.FAKE_OTHER_CERT_B64)));
        else process.stdout.write(JSON.stringify(signed('ECDSA-SHA-256', process.env.SPEC_PLUGIN_CERT_B64)));
      } else {
        process.stderr.write(JSON.stringify({ errorCode: 'VALIDATION_ERROR', errorMessage: `unsupported command ${command}` }));
        process.exitCode = 1;
      }
  }
}
main();
