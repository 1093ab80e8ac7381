/**
 * The decision logic of a minimal admission controller: for every container image of a Pod,
 * verify its Notary signature with a reusable `Verifier` from @vouch/notation, pin the image
 * to the verified digest (JSON patch), and deny the Pod when any image is not trusted.
 *
 * "Fail" (decided: not signed, not trusted) always denies. "Error" (could not decide: registry
 * down, timeout) follows `failurePolicy`, as Kubernetes webhooks do.
 */
import { isVouchError, parseReference, type Reference, type VouchErrorCode } from '@vouch/core';
import type { Verifier } from '@vouch/notation';
import type { Repository } from '@vouch/registry';

/** The parts of an AdmissionReview (admission.k8s.io/v1) this controller reads and writes. */
export interface AdmissionReview {
  apiVersion: string;
  kind: 'AdmissionReview';
  request?: {
    uid: string;
    kind?: { group?: string; version?: string; kind?: string };
    namespace?: string;
    name?: string;
    operation?: string;
    object?: Record<string, unknown> | null;
  };
  response?: {
    uid: string;
    allowed: boolean;
    status?: { code: number; message: string };
    patchType?: 'JSONPatch';
    patch?: string;
    warnings?: string[];
  };
}

/** Options of {@link createAdmissionController}. */
export interface AdmissionControllerOptions {
  /** Built once with `createVerifier({ trustPolicy, trustStore, envelopes })`. */
  verifier: Verifier;
  /** The repository holding an image (a remote registry client, a memory repository in tests …). */
  repositoryFor(reference: Reference): Repository;
  /** Images outside these prefixes (`registry.example.com/`) are admitted unchecked; default: check every image. */
  imagePrefixes?: readonly string[];
  /** Verification that could not decide: `Fail` denies (default), `Ignore` admits with a warning. */
  failurePolicy?: 'Fail' | 'Ignore';
  /** Deadline for verifying one Pod's images, in ms (default 8000: below the API server's 10 s). */
  timeoutMs?: number;
}

/** One image of a Pod spec and where it sits in the object. */
export interface PodImage {
  /** JSON pointer of the `image` field (`/spec/containers/0/image`). */
  path: string;
  image: string;
}

/** Result of verifying one image. */
export interface ImageVerdict extends PodImage {
  result: 'verified' | 'unchecked' | 'fail' | 'error';
  /** `registry/repository@sha256:…` when verified. */
  digestReference?: string;
  code?: VouchErrorCode;
  message?: string;
}

/** Codes that mean "could not decide" rather than "not trusted". */
const UNDECIDED = new Set<VouchErrorCode>([
  'ERR_NETWORK',
  'ERR_TIMEOUT',
  'ERR_ABORTED',
  'ERR_REGISTRY_HTTP',
  'ERR_REGISTRY_UNAUTHORIZED',
  'ERR_SIGNATURE_RETRIEVAL_FAILED',
  'ERR_VERIFICATION_INCONCLUSIVE',
  'ERR_IO',
  'ERR_INTERNAL',
]);

/** The images of a Pod (containers, init containers, ephemeral containers). */
export function podImages(pod: Record<string, unknown>): PodImage[] {
  const spec = (pod.spec ?? {}) as Record<string, unknown>;
  const out: PodImage[] = [];
  for (const field of ['initContainers', 'containers', 'ephemeralContainers']) {
    const list = spec[field];
    if (!Array.isArray(list)) continue;
    list.forEach((c: { image?: unknown }, i) => {
      if (typeof c?.image === 'string') out.push({ path: `/spec/${field}/${i}/image`, image: c.image });
    });
  }
  return out;
}

/** A controller: `review(AdmissionReview) → AdmissionReview` with the response filled in. */
export interface AdmissionController {
  review(review: AdmissionReview): Promise<AdmissionReview>;
  /** Verify one image reference (exposed for tests and for logging). */
  verifyImage(image: PodImage, signal?: AbortSignal): Promise<ImageVerdict>;
}

/** Creates the controller. The verifier is reused for every request (parsed policy, cached trust store). */
export function createAdmissionController(options: AdmissionControllerOptions): AdmissionController {
  const failurePolicy = options.failurePolicy ?? 'Fail';
  const timeoutMs = options.timeoutMs ?? 8000;

  async function verifyImage(img: PodImage, signal?: AbortSignal): Promise<ImageVerdict> {
    if (options.imagePrefixes && !options.imagePrefixes.some((p) => img.image.startsWith(p))) return { ...img, result: 'unchecked' };
    try {
      // Docker normalization (`nginx` → `docker.io/library/nginx:latest`), as the kubelet pulls it.
      const ref = parseReference(img.image, { normalize: true });
      const target = ref.digest ? `@${ref.digest}` : `:${ref.tag ?? 'latest'}`;
      const result = await options.verifier.verify(`${ref.registry}/${ref.repository}${target}`, {
        repository: options.repositoryFor(ref),
        ...(signal ? { signal } : {}),
      });
      return { ...img, result: 'verified', digestReference: result.reference };
    } catch (e) {
      const code: VouchErrorCode = isVouchError(e) ? e.code : 'ERR_INTERNAL';
      const message = e instanceof Error ? e.message : String(e);
      return { ...img, result: UNDECIDED.has(code) ? 'error' : 'fail', code, message };
    }
  }

  async function review(input: AdmissionReview): Promise<AdmissionReview> {
    const req = input?.request;
    if (input?.kind !== 'AdmissionReview' || !req || typeof req.uid !== 'string') {
      throw new TypeError('expected an AdmissionReview (admission.k8s.io/v1) with request.uid');
    }
    const respond = (response: NonNullable<AdmissionReview['response']>): AdmissionReview => ({
      apiVersion: input.apiVersion || 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response,
    });
    const pod = req.object;
    if (req.kind?.kind !== 'Pod' || !pod || (req.operation !== 'CREATE' && req.operation !== 'UPDATE')) {
      return respond({ uid: req.uid, allowed: true });
    }
    const signal = AbortSignal.timeout(timeoutMs);
    const verdicts = await Promise.all(podImages(pod).map((img) => verifyImage(img, signal)));
    const failed = verdicts.filter((v) => v.result === 'fail' || (v.result === 'error' && failurePolicy === 'Fail'));
    const name = `${req.namespace ?? ''}/${req.name ?? (pod.metadata as { name?: string } | undefined)?.name ?? ''}`;
    if (failed.length > 0) {
      const reasons = failed.map((v) => `image ${v.image}: ${v.code}: ${v.message}`);
      return respond({
        uid: req.uid,
        allowed: false,
        status: { code: 403, message: `pod ${name} denied by vouch: ${reasons.join('; ')}` },
      });
    }
    const warnings = verdicts
      .filter((v) => v.result === 'error')
      .map((v) => `image ${v.image} could not be verified (${v.code}); admitted because failurePolicy is Ignore`);
    // Pin every verified image to the digest that was verified, keeping the tag for readability.
    const patch = verdicts
      .filter((v) => v.result === 'verified' && v.digestReference && !v.image.includes('@'))
      .map((v) => ({ op: 'replace', path: v.path, value: `${v.image}@${v.digestReference!.split('@')[1]}` }));
    return respond({
      uid: req.uid,
      allowed: true,
      ...(patch.length > 0 ? { patchType: 'JSONPatch' as const, patch: Buffer.from(JSON.stringify(patch)).toString('base64') } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    });
  }

  return { review, verifyImage };
}
