/**
 * @vouch/testing/pki (Node only): real PKIs generated with the `openssl` CLI and one HTTP server on
 * 127.0.0.1 that serves their TSA (RFC 3161), OCSP responders (POST and GET) and CRLs — the peers
 * of the timestamp and revocation tests. Tests call {@link requireOpenssl} first: without openssl
 * they skip with a notice, except under CI=true.
 */
export {
  type CreateOpensslPkiOptions,
  createOpensslPki,
  type OpensslPki,
  openssl,
  opensslAvailable,
  type PkiAlgorithm,
  type PkiCert,
  type PkiCertName,
} from './openssl-pki.js';
export { type LoggedRequest, type PkiHttpServer, requireOpenssl, startPkiServer } from './server.js';
