/**
 * Test-only: build real PKIs with the `openssl` CLI (root → intermediates → leaves, a TSA,
 * an OCSP responder, revoked certificates, CRLs) for the TSA / OCSP / CRL tests
 * (`@vouch/testing/pki`, Node only). Distinct from @vouch/x509's in-memory `createTestPki`.
 *
 * Certificates point their AIA OCSP and CRL distribution points at a {@link PkiHttpServer}
 * (see ./server.ts) under `<baseUrl>/<name>/…`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type PkiAlgorithm = 'rsa2048' | 'rsa3072' | 'p256' | 'p384';

/** Run openssl with `args` in `cwd`; rejects with stderr on failure. */
export function openssl(args: string[], cwd: string, input?: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', args, { cwd, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${stderr.toString() || err.message}`));
      else resolve(stdout);
    });
    if (input) child.stdin?.end(input);
  });
}

let available: Promise<boolean> | undefined;
/** True when an `openssl` binary can be run. */
export function opensslAvailable(): Promise<boolean> {
  available ??= openssl(['version'], process.cwd()).then(
    () => true,
    () => false,
  );
  return available;
}

/** One generated certificate. */
export interface PkiCert {
  name: string;
  pem: string;
  der: Uint8Array;
  keyPath: string;
  certPath: string;
}

/** The certificates of a generated PKI (see {@link createOpensslPki} for what each one is). */
export interface OpensslPki {
  name: string;
  alg: PkiAlgorithm;
  dir: string;
  certs: Record<PkiCertName, PkiCert>;
  /** Revoke a certificate in its CA database (`openssl ca -revoke`) and regenerate that CA's CRLs. */
  revoke(cert: PkiCertName, reason?: string): Promise<void>;
  /** Regenerate the CRLs of both CAs. */
  regenerateCrls(): Promise<void>;
  /** Run a serialized openssl command in the PKI directory. */
  run(args: string[]): Promise<Buffer>;
}

export type PkiCertName =
  /** self-signed root; its own `openssl ca` database issues the intermediates */
  | 'root'
  /** intermediate CA (root database; OCSP at /ocsp/root signed by the root itself, CRL /root.crl) */
  | 'int'
  /** intermediate revoked in the root database */
  | 'intRevoked'
  /** intermediate issued outside the root database, OCSP only: the responder answers "unknown" */
  | 'intUnknown'
  /** leaves below intRevoked / intUnknown without revocation info */
  | 'leafUnderRevoked'
  | 'leafUnderUnknown'
  /** code-signing leaf with OCSP (/ocsp/int, delegated responder) + CRL (/int.crl) */
  | 'leaf'
  /** same, revoked (keyCompromise) */
  | 'leafRevoked'
  /** code-signing leaf with only a CRL distribution point */
  | 'leafCrlOnly'
  | 'leafCrlOnlyRevoked'
  /** leaf issued outside the intermediate database, OCSP only: status unknown */
  | 'leafUnknown'
  /** leaf whose OCSP and CRL URLs point at a closed port */
  | 'leafUnreachable'
  /** leaf whose OCSP and CRL URLs answer with oversized bodies */
  | 'leafOversized'
  /** leaf with only a CRL DP serving a CRL valid for 1 hour (check `at` now + 2 h) */
  | 'leafShortCrl'
  /** leaf with neither OCSP nor CRL */
  | 'leafNoRevocationInfo'
  /** TSA leaf (EKU critical timeStamping) with OCSP + CRL */
  | 'tsa'
  | 'tsaRevoked'
  /** delegated OCSP responder for the intermediate (OCSPSigning, noCheck) */
  | 'ocsp';

const KEYARGS: Record<PkiAlgorithm, string[]> = {
  rsa2048: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  rsa3072: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072'],
  p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-pkeyopt', 'ec_param_enc:named_curve'],
  p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-pkeyopt', 'ec_param_enc:named_curve'],
};
const MD: Record<PkiAlgorithm, string> = { rsa2048: 'sha256', rsa3072: 'sha256', p256: 'sha256', p384: 'sha384' };

function caSection(name: string, cert: string, key: string, md: string): string {
  return `[ ${name} ]
dir = ./db-${name}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = ./${cert}
private_key = ./${key}
default_md = ${md}
default_days = 825
default_crl_days = 30
policy = pol_any
unique_subject = no
copy_extensions = none
`;
}

function config(md: string, base: string, closed: string): string {
  const revInt = `authorityInfoAccess = OCSP;URI:${base}/ocsp/int\ncrlDistributionPoints = URI:${base}/int.crl`;
  const leaf = `basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always`;
  const tsa = `basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always`;
  const intCa = `basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always`;
  return `[ ca ]
default_ca = intca
${caSection('intca', 'int.crt', 'int.key', md)}
${caSection('rootca', 'root.crt', 'root.key', md)}
[ pol_any ]
commonName = supplied
organizationName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_int ]
${intCa}
authorityInfoAccess = OCSP;URI:${base}/ocsp/root
crlDistributionPoints = URI:${base}/root.crl
[ v3_int_ocsponly ]
${intCa}
authorityInfoAccess = OCSP;URI:${base}/ocsp/root
[ v3_leaf_plain ]
${leaf}
[ v3_codesign ]
${leaf}
${revInt}
[ v3_crlonly ]
${leaf}
crlDistributionPoints = URI:${base}/int.crl
[ v3_unknown ]
${leaf}
authorityInfoAccess = OCSP;URI:${base}/ocsp/int
[ v3_unreachable ]
${leaf}
authorityInfoAccess = OCSP;URI:${closed}/ocsp
crlDistributionPoints = URI:${closed}/int.crl
[ v3_oversized ]
${leaf}
authorityInfoAccess = OCSP;URI:${base}/big/ocsp
crlDistributionPoints = URI:${base}/big.crl
[ v3_shortcrl ]
${leaf}
crlDistributionPoints = URI:${base}/int-short.crl
[ v3_tsa ]
${tsa}
${revInt}
[ v3_ocsp ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ crl_ext ]
authorityKeyIdentifier = keyid:always
`;
}

function tsaConfig(md: string): string {
  return `[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = .
serial = ./tsaserial
crypto_device = builtin
signer_cert = ./tsa.crt
certs = ./int.crt
signer_key = ./tsa.key
signer_digest = ${md}
default_policy = 1.3.6.1.4.1.4146.2.3
other_policies = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1, millisecs:500, microsecs:100
clock_precision_digits = 0
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`;
}

export interface CreateOpensslPkiOptions {
  /** Directory to create the PKI in (must exist and be empty). */
  dir: string;
  /** Path segment under the server (`<baseUrl>/<name>/…`). */
  name: string;
  alg: PkiAlgorithm;
  /** The server's origin, e.g. `http://127.0.0.1:41234`. */
  baseUrl: string;
  /** An origin nothing listens on (for unreachable-responder certificates). */
  closedUrl: string;
}

/**
 * Generate a complete test PKI with openssl (a few seconds for RSA, well under a second for
 * EC). See {@link PkiCertName} for the certificates.
 */
export async function createOpensslPki(options: CreateOpensslPkiOptions): Promise<OpensslPki> {
  const { dir, name, alg } = options;
  const md = MD[alg];
  const base = `${options.baseUrl}/${name}`;
  for (const ca of ['intca', 'rootca']) {
    mkdirSync(join(dir, `db-${ca}`, 'newcerts'), { recursive: true });
    writeFileSync(join(dir, `db-${ca}`, 'index.txt'), '');
    writeFileSync(join(dir, `db-${ca}`, 'serial'), ca === 'intca' ? '1000\n' : '2000\n');
    writeFileSync(join(dir, `db-${ca}`, 'crlnumber'), '1000\n');
  }
  writeFileSync(join(dir, 'ca.cnf'), config(md, base, options.closedUrl));
  writeFileSync(join(dir, 'tsa.cnf'), tsaConfig(md));
  writeFileSync(join(dir, 'tsaserial'), '01\n');

  let queue: Promise<unknown> = Promise.resolve();
  const run = (args: string[]): Promise<Buffer> => {
    const job = queue.then(() => openssl(args, dir));
    queue = job.catch(() => {});
    return job;
  };
  let extSerial = 0x5000;
  const key = (file: string) => run(['genpkey', ...KEYARGS[alg], '-out', file]);
  const csr = async (n: string, subject: string) => {
    await key(`${n}.key`);
    await run(['req', '-new', '-config', 'ca.cnf', '-key', `${n}.key`, '-subj', subject, '-out', `${n}.csr`]);
  };
  /** Issue through an openssl-ca database. */
  const viaCa = async (n: string, ca: 'intca' | 'rootca', ext: string, subject: string) => {
    await csr(n, subject);
    await run(['ca', '-batch', '-config', 'ca.cnf', '-name', ca, '-extensions', ext, '-in', `${n}.csr`, '-out', `${n}.crt`, '-notext']);
  };
  /** Issue outside any database (so responders do not know it). */
  const direct = async (n: string, issuer: string, ext: string, subject: string) => {
    await csr(n, subject);
    await run([
      'x509',
      '-req',
      '-in',
      `${n}.csr`,
      '-CA',
      `${issuer}.crt`,
      '-CAkey',
      `${issuer}.key`,
      '-set_serial',
      String(extSerial++),
      '-days',
      '825',
      `-${md}`,
      '-extfile',
      'ca.cnf',
      '-extensions',
      ext,
      '-out',
      `${n}.crt`,
    ]);
  };
  const subj = (cn: string) => `/CN=vouch test ${cn} ${alg}/O=vouch test/C=US/ST=WA`;

  await key('root.key');
  await run([
    'req',
    '-x509',
    '-new',
    '-config',
    'ca.cnf',
    '-key',
    'root.key',
    '-subj',
    subj('root'),
    '-days',
    '3650',
    `-${md}`,
    '-extensions',
    'v3_root',
    '-out',
    'root.crt',
  ]);
  await viaCa('int', 'rootca', 'v3_int', subj('intermediate'));
  await viaCa('intRevoked', 'rootca', 'v3_int', subj('revoked intermediate'));
  await direct('intUnknown', 'root', 'v3_int_ocsponly', subj('unknown intermediate'));
  await direct('leafUnderRevoked', 'intRevoked', 'v3_leaf_plain', subj('leaf under revoked intermediate'));
  await direct('leafUnderUnknown', 'intUnknown', 'v3_leaf_plain', subj('leaf under unknown intermediate'));
  await viaCa('leaf', 'intca', 'v3_codesign', subj('leaf'));
  await viaCa('leafRevoked', 'intca', 'v3_codesign', subj('revoked leaf'));
  await viaCa('leafCrlOnly', 'intca', 'v3_crlonly', subj('crl-only leaf'));
  await viaCa('leafCrlOnlyRevoked', 'intca', 'v3_crlonly', subj('revoked crl-only leaf'));
  await direct('leafUnknown', 'int', 'v3_unknown', subj('unknown leaf'));
  await viaCa('leafUnreachable', 'intca', 'v3_unreachable', subj('unreachable leaf'));
  await viaCa('leafOversized', 'intca', 'v3_oversized', subj('oversized leaf'));
  await viaCa('leafShortCrl', 'intca', 'v3_shortcrl', subj('short crl leaf'));
  await viaCa('leafNoRevocationInfo', 'intca', 'v3_leaf_plain', subj('plain leaf'));
  await viaCa('tsa', 'intca', 'v3_tsa', subj('tsa'));
  await viaCa('tsaRevoked', 'intca', 'v3_tsa', subj('revoked tsa'));
  await viaCa('ocsp', 'intca', 'v3_ocsp', subj('ocsp responder'));

  const revokeIn = async (n: string, ca: 'intca' | 'rootca', reason: string) => {
    await run(['ca', '-batch', '-config', 'ca.cnf', '-name', ca, '-revoke', `${n}.crt`, '-crl_reason', reason]);
  };
  const regenerateCrls = async () => {
    for (const [ca, out] of [
      ['intca', 'int'],
      ['rootca', 'root'],
    ] as const) {
      await run(['ca', '-batch', '-config', 'ca.cnf', '-name', ca, '-gencrl', '-crlexts', 'crl_ext', '-out', `${out}.crl.pem`]);
      await run(['crl', '-in', `${out}.crl.pem`, '-outform', 'DER', '-out', `${out}.crl`]);
    }
    await run([
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-name',
      'intca',
      '-gencrl',
      '-crlhours',
      '1',
      '-crlexts',
      'crl_ext',
      '-out',
      'int-short.crl.pem',
    ]);
    await run(['crl', '-in', 'int-short.crl.pem', '-outform', 'DER', '-out', 'int-short.crl']);
  };
  await revokeIn('intRevoked', 'rootca', 'keyCompromise');
  await revokeIn('leafRevoked', 'intca', 'keyCompromise');
  await revokeIn('leafCrlOnlyRevoked', 'intca', 'keyCompromise');
  await revokeIn('tsaRevoked', 'intca', 'keyCompromise');
  await regenerateCrls();
  writeFileSync(join(dir, 'chain.pem'), readFileSync(join(dir, 'int.crt')));

  const names: PkiCertName[] = [
    'root',
    'int',
    'intRevoked',
    'intUnknown',
    'leafUnderRevoked',
    'leafUnderUnknown',
    'leaf',
    'leafRevoked',
    'leafCrlOnly',
    'leafCrlOnlyRevoked',
    'leafUnknown',
    'leafUnreachable',
    'leafOversized',
    'leafShortCrl',
    'leafNoRevocationInfo',
    'tsa',
    'tsaRevoked',
    'ocsp',
  ];
  const certs = {} as Record<PkiCertName, PkiCert>;
  for (const n of names) {
    const pem = readFileSync(join(dir, `${n}.crt`), 'utf8');
    const der = new Uint8Array(await run(['x509', '-in', `${n}.crt`, '-outform', 'DER']));
    certs[n] = { name: n, pem, der, keyPath: join(dir, `${n}.key`), certPath: join(dir, `${n}.crt`) };
  }
  const caOf = (n: PkiCertName): 'intca' | 'rootca' => (n.startsWith('int') ? 'rootca' : 'intca');
  return {
    name,
    alg,
    dir,
    certs,
    run,
    regenerateCrls,
    async revoke(n, reason = 'keyCompromise') {
      await revokeIn(n, caOf(n), reason);
      await regenerateCrls();
    },
  };
}
