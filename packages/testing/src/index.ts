/**
 * @vouch/testing — shared test support (not published). The runtime-agnostic part is here (test
 * images and signatures, admission fixtures); the Node-only parts are subpaths: the Kubernetes API
 * server fake (`@vouch/testing/kube`), test registries, a token server and a fault-injecting proxy
 * (`@vouch/testing/registry`), openssl PKIs with their TSA, OCSP and CRL server
 * (`@vouch/testing/pki`). The in-memory Sigstore stack (`@vouch/testing/sigstore`) is
 * runtime-agnostic. The vitest matchers `toRejectWithCode` / `toThrowWithCode` are registered for
 * every test by `@vouch/testing/vitest`'s setup file.
 */

export { admissionReviewFor, type SeedPolicyOptions, seedPolicyYaml, selfSignedTls, workloads } from './admission.js';
export { collectPages, pushTestImage, pushTestSignature, signTestImage } from './images.js';

/**
 * Polls `fn` every `intervalMs` (default 25) until it returns a truthy value, and resolves with it;
 * rejects after `timeoutMs` (default 15 s) naming `what`.
 */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeout = options.timeoutMs ?? 15_000;
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 25));
  }
}
