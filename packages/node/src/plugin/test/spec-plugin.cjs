#!/usr/bin/env node
// A Notary plugin executable written from the plugin specification alone (contract 1.0),
// without vouch's SDK: it is what a vendor would write by hand. Signer (SIGNATURE_GENERATOR.RAW)
// and verifier (SIGNATURE_VERIFIER.TRUSTED_IDENTITY + REVOCATION_CHECK).
//
// Key material comes from the environment: SPEC_PLUGIN_KEY_PEM (PKCS#8 PEM), SPEC_PLUGIN_CERT_B64
// (base64 DER leaf certificate), SPEC_PLUGIN_KEY_SPEC (e.g. EC-256). Key id: "spec-key".
// Verification: TRUSTED_IDENTITY succeeds when the leaf is the configured certificate;
// REVOCATION_CHECK fails with a reason when pluginConfig.revoked is "true".
// CommonJS on purpose: the installed file is named notation-<name> and a dotted plugin name
// looks like an unknown file extension to Node's ES module loader.
const { constants, createPrivateKey, sign } = require('node:crypto');

const NAME = 'io.vouch.test.spec';
const KEY_ID = 'spec-key';
const KEY_SPECS = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'EC-256', 'EC-384', 'EC-521'];
const HASHES = { 'SHA-256': ['sha256', 32], 'SHA-384': ['sha384', 48], 'SHA-512': ['sha512', 64] };
const ALG = {
  'RSA-2048': 'RSASSA-PSS-SHA-256',
  'RSA-3072': 'RSASSA-PSS-SHA-384',
  'RSA-4096': 'RSASSA-PSS-SHA-512',
  'EC-256': 'ECDSA-SHA-256',
  'EC-384': 'ECDSA-SHA-384',
  'EC-521': 'ECDSA-SHA-512',
};
const VERIFIER_CAPS = ['SIGNATURE_VERIFIER.TRUSTED_IDENTITY', 'SIGNATURE_VERIFIER.REVOCATION_CHECK'];

class ContractError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
const invalid = (message) => new ContractError('VALIDATION_ERROR', message);

function isObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function needString(o, key) {
  if (typeof o[key] !== 'string' || o[key] === '') throw invalid(`${key} is required and must be a non-empty string`);
  return o[key];
}
function needBase64(o, key) {
  const s = needString(o, key);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw invalid(`${key} must be standard base64`);
  return Buffer.from(s, 'base64');
}
function checkCommon(req) {
  if (!isObject(req)) throw invalid('the request must be a JSON object');
  const v = needString(req, 'contractVersion');
  if (!/^\d+\.\d+$/.test(v)) throw invalid('contractVersion must be major.minor');
  if (v.split('.')[0] !== '1') throw new ContractError('UNSUPPORTED_CONTRACT_VERSION', `contract version ${v} is not supported`);
  if (req.pluginConfig !== undefined && !isObject(req.pluginConfig)) throw invalid('pluginConfig must be an object');
}

const commands = {
  'get-plugin-metadata': () => ({
    name: NAME,
    description: 'Plugin written from the Notary plugin specification for vouch tests',
    version: '1.0.0',
    url: 'https://example.invalid/spec-plugin',
    supportedContractVersions: ['1.0'],
    capabilities: ['SIGNATURE_GENERATOR.RAW', ...VERIFIER_CAPS],
  }),
  'describe-key': (req) => {
    checkCommon(req);
    const keyId = needString(req, 'keyId');
    if (keyId !== KEY_ID) throw invalid(`unknown key ${keyId}`);
    return { keyId, keySpec: process.env.SPEC_PLUGIN_KEY_SPEC };
  },
  'generate-signature': (req) => {
    checkCommon(req);
    const keyId = needString(req, 'keyId');
    const keySpec = needString(req, 'keySpec');
    const hashAlgorithm = needString(req, 'hashAlgorithm');
    const payload = needBase64(req, 'payload');
    if (!KEY_SPECS.includes(keySpec)) throw invalid(`unsupported keySpec ${keySpec}`);
    if (!HASHES[hashAlgorithm]) throw invalid(`unsupported hashAlgorithm ${hashAlgorithm}`);
    if (keyId !== KEY_ID) throw invalid(`unknown key ${keyId}`);
    if (keySpec !== process.env.SPEC_PLUGIN_KEY_SPEC) throw invalid(`key ${keyId} is not ${keySpec}`);
    const key = createPrivateKey(process.env.SPEC_PLUGIN_KEY_PEM);
    const [hash, saltLength] = HASHES[hashAlgorithm];
    const signature = keySpec.startsWith('RSA')
      ? sign(hash, payload, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength })
      : sign(hash, payload, { key, dsaEncoding: 'ieee-p1363' });
    return {
      keyId,
      signature: signature.toString('base64'),
      signingAlgorithm: ALG[keySpec],
      certificateChain: [process.env.SPEC_PLUGIN_CERT_B64],
    };
  },
  'verify-signature': (req) => {
    checkCommon(req);
    const sig = req.signature;
    if (!isObject(sig) || !isObject(sig.criticalAttributes)) throw invalid('signature.criticalAttributes is required');
    needString(sig.criticalAttributes, 'contentType');
    needString(sig.criticalAttributes, 'signingScheme');
    if (!Array.isArray(sig.certificateChain) || sig.certificateChain.length === 0) throw invalid('signature.certificateChain is required');
    for (const c of sig.certificateChain) needBase64({ c }, 'c');
    const tp = req.trustPolicy;
    if (!isObject(tp) || !Array.isArray(tp.signatureVerification) || tp.signatureVerification.length === 0) {
      throw invalid('trustPolicy.signatureVerification is required');
    }
    for (const cap of tp.signatureVerification) if (!VERIFIER_CAPS.includes(cap)) throw invalid(`unknown capability ${cap}`);
    const results = {};
    for (const cap of tp.signatureVerification) {
      if (cap === 'SIGNATURE_VERIFIER.TRUSTED_IDENTITY') {
        results[cap] =
          sig.certificateChain[0] === process.env.SPEC_PLUGIN_CERT_B64
            ? { success: true, reason: '' }
            : { success: false, reason: 'signing identity is not trusted by the spec plugin' };
      } else {
        results[cap] =
          req.pluginConfig?.revoked === 'true' ? { success: false, reason: 'certificate revoked' } : { success: true, reason: '' };
      }
    }
    return { verificationResults: results, processedAttributes: Array.isArray(sig.unprocessedAttributes) ? sig.unprocessedAttributes : [] };
  },
};

async function main() {
  const command = process.argv[2];
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const input = Buffer.concat(chunks).toString('utf8');
  try {
    const handler = commands[command];
    if (!handler) throw invalid(`unknown command ${command}`);
    let req;
    try {
      req = input.trim() === '' ? {} : JSON.parse(input);
    } catch {
      throw invalid('the request is not valid JSON');
    }
    process.stdout.write(JSON.stringify(handler(req)));
  } catch (e) {
    const body =
      e instanceof ContractError
        ? { errorCode: e.code, errorMessage: e.message }
        : { errorCode: 'ERROR', errorMessage: String(e?.message ?? e) };
    process.stderr.write(JSON.stringify(body));
    process.exitCode = 1;
  }
}
main();
