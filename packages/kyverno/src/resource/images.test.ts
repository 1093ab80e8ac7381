import { describe, expect, it } from 'vitest';
import { createJmesEngine } from '../variables/jmespath.js';
import { addDefaultRegistry, extractImages, getImageInfo, type ImageInfo, imageInfoString, listImages } from './images.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('addDefaultRegistry', () => {
  it('prefixes docker.io to a bare name and to a lowercase first segment without "." or ":"', () => {
    expect(addDefaultRegistry('nginx')).toBe('docker.io/nginx');
    expect(addDefaultRegistry('library/nginx')).toBe('docker.io/library/nginx');
    expect(addDefaultRegistry('org/team/app:1')).toBe('docker.io/org/team/app:1');
  });

  it('keeps a first segment that is a registry: has "." or ":", is localhost, or is not all lowercase', () => {
    expect(addDefaultRegistry('ghcr.io/org/app')).toBe('ghcr.io/org/app');
    expect(addDefaultRegistry('registry:5000/app')).toBe('registry:5000/app');
    expect(addDefaultRegistry('localhost/app')).toBe('localhost/app');
    expect(addDefaultRegistry('Org/app')).toBe('Org/app');
  });

  it('uses the configured default registry', () => {
    expect(addDefaultRegistry('nginx', { defaultRegistry: 'mirror.local:5000' })).toBe('mirror.local:5000/nginx');
  });
});

describe('getImageInfo', () => {
  it('normalizes like Kyverno: docker.io without library/, latest when neither tag nor digest', () => {
    expect(getImageInfo('nginx')).toEqual({
      registry: 'docker.io',
      name: 'nginx',
      path: 'nginx',
      tag: 'latest',
      digest: '',
      reference: 'docker.io/nginx:latest',
      referenceWithTag: 'docker.io/nginx:latest',
    });
    const deep = getImageInfo('localhost:5000/a/b/c:2');
    expect([deep.registry, deep.path, deep.name, deep.tag]).toEqual(['localhost:5000', 'a/b/c', 'c', '2']);
  });

  it('a digest wins over the tag in `reference`; `referenceWithTag` keeps the tag (empty when none was given)', () => {
    const both = getImageInfo(`ghcr.io/org/app:v1@${DIGEST}`);
    expect(both.reference).toBe(`ghcr.io/org/app@${DIGEST}`);
    expect(both.referenceWithTag).toBe('ghcr.io/org/app:v1');
    const digestOnly = getImageInfo(`ghcr.io/org/app@${DIGEST}`);
    expect(digestOnly.tag).toBe('');
    expect(digestOnly.referenceWithTag).toBe('ghcr.io/org/app:');
  });

  it('without default-registry mutation, an added registry is dropped again but an explicit one is kept', () => {
    const off = { enableDefaultRegistryMutation: false };
    expect(getImageInfo('nginx', off)).toMatchObject({ registry: '', reference: 'nginx:latest', referenceWithTag: 'nginx:latest' });
    expect(getImageInfo('ghcr.io/x:1', off).reference).toBe('ghcr.io/x:1');
    expect(getImageInfo('nginx', { defaultRegistry: 'mirror.local:5000' }).reference).toBe('mirror.local:5000/nginx:latest');
  });

  it("refuses what distribution/reference refuses, with Kyverno's message", () => {
    const code = (image: string) => {
      try {
        getImageInfo(image);
      } catch (e) {
        return [(e as { code: string }).code, (e as Error).message];
      }
      return undefined;
    };
    expect(code('Upper')).toEqual([
      'ERR_INVALID_REFERENCE',
      'bad image: docker.io/Upper, defaultRegistry: docker.io, enableDefaultRegistryMutation: true: repository name must be lowercase',
    ]);
    expect(code('UPPER/Case')?.[1]).toBe(
      'bad image: UPPER/Case, defaultRegistry: docker.io, enableDefaultRegistryMutation: true: repository name must be lowercase',
    );
    expect(code('a:b:c')?.[1]).toMatch(/: invalid reference format$/);
    expect(code(`ghcr.io/${'a'.repeat(250)}`)?.[1]).toMatch(/: repository name must not be more than 255 characters$/);
  });

  it('imageInfoString is the `reference` form', () => {
    for (const image of ['nginx', `ghcr.io/org/app:v1@${DIGEST}`, 'localhost:5000/a:b']) {
      const info = getImageInfo(image);
      expect(imageInfoString(info)).toBe(info.reference);
    }
    expect(imageInfoString({ registry: '', path: 'app', tag: '1', digest: '' })).toBe('app:1');
  });
});

describe('extractImages', () => {
  const podSpec = {
    imagePullSecrets: [{ name: 'pull' }],
    initContainers: [{ name: 'init', image: 'busybox' }],
    containers: [{ name: 'app', image: 'ghcr.io/org/app:1' }, { name: 'blank', image: '  ' }, { name: 'none' }],
    ephemeralContainers: [{ name: 'debug', image: 'alpine' }],
  };

  it('reads pods and every pod controller at their pod template, with JSON pointers and pull secrets', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['Pod', { spec: podSpec }, '/spec'],
      ['Deployment', { spec: { template: { spec: podSpec } } }, '/spec/template/spec'],
      ['StatefulSet', { spec: { template: { spec: podSpec } } }, '/spec/template/spec'],
      ['Job', { spec: { template: { spec: podSpec } } }, '/spec/template/spec'],
      ['CronJob', { spec: { jobTemplate: { spec: { template: { spec: podSpec } } } } }, '/spec/jobTemplate/spec/template/spec'],
    ];
    for (const [kind, body, prefix] of cases) {
      const images = extractImages({ kind, ...body }, undefined);
      expect(Object.keys(images), kind).toEqual(['initContainers', 'containers', 'ephemeralContainers']);
      expect(images.containers!.app).toMatchObject({
        reference: 'ghcr.io/org/app:1',
        jsonPointer: `${prefix}/containers/0/image`,
        imagePullSecrets: ['pull'],
      });
      expect(images.initContainers!.init!.jsonPointer).toBe(`${prefix}/initContainers/0/image`);
      expect(images.ephemeralContainers!.debug!.reference).toBe('docker.io/alpine:latest');
      // blank and missing images are not images
      expect(Object.keys(images.containers!)).toEqual(['app']);
    }
  });

  it('finds nothing in a kind without built-in extractors', () => {
    expect(extractImages({ kind: 'ConfigMap', data: { image: 'nginx' } }, undefined)).toEqual({});
  });

  it('refuses an unparsable image, naming it (the rule then answers error)', () => {
    expect(() => extractImages({ kind: 'Pod', spec: { containers: [{ name: 'a', image: 'bad image!' }] } }, undefined)).toThrow(
      /^invalid image 'bad image!' \(bad image: docker\.io\/bad image!, .*: invalid reference format\)$/,
    );
  });

  it('custom extractors replace the built-ins for their kind: name, key, value, and pointer-escaped map keys', () => {
    const task = { kind: 'Task', spec: { steps: [{ name: 's1', image: 'alpine' }], sidecars: { 'a/b~c': { image: 'nginx:1' } } } };
    const images = extractImages(task, {
      Task: [
        { name: 'steps', path: '/spec/steps/*', value: 'image', key: 'name' },
        { path: '/spec/sidecars/*/image' }, // no name: "custom"; no value: the last path segment; no key: the pointer
      ],
    });
    expect(images.steps!.s1!.reference).toBe('docker.io/alpine:latest');
    expect(images.custom).toEqual({
      '/spec/sidecars/a~1b~0c/image': expect.objectContaining({
        reference: 'docker.io/nginx:1',
        jsonPointer: '/spec/sidecars/a~1b~0c/image',
      }),
    });
    // a Pod is still read by the built-ins when only Task has custom extractors
    expect(Object.keys(extractImages({ kind: 'Pod', spec: podSpec }, { Task: [] }))).toContain('containers');
  });

  it('an extractor jmesPath transforms the value and must produce a string', () => {
    const jmes = createJmesEngine();
    const search = (e: string, v: unknown) => jmes.search(e, v);
    const task = { kind: 'Task', spec: { img: 'GHCR.IO/ORG/APP:1' } };
    const images = extractImages(task, { Task: [{ path: '/spec/img', jmesPath: 'to_lower(@)' }] }, {}, search);
    expect(images.custom!['/spec/img']!.reference).toBe('ghcr.io/org/app:1');
    expect(() => extractImages(task, { Task: [{ path: '/spec/img', jmesPath: 'length(@)' }] }, {}, search)).toThrow(
      'jmesPath length(@) must produce a string, got 17',
    );
  });

  it('parses each image string once with an info cache, and still gives every occurrence its own pointer', () => {
    const cache = new Map<string, ImageInfo>();
    const pod = { kind: 'Pod', spec: { containers: [1, 2, 3].map((i) => ({ name: `c${i}`, image: 'ghcr.io/org/app:1' })) } };
    const first = extractImages(pod, undefined, {}, undefined, cache);
    expect(cache.size).toBe(1);
    const cached = cache.get('ghcr.io/org/app:1')!;
    expect(cached.jsonPointer).toBeUndefined();
    expect(Object.values(first.containers!).map((i) => i.jsonPointer)).toEqual([
      '/spec/containers/0/image',
      '/spec/containers/1/image',
      '/spec/containers/2/image',
    ]);
    expect(extractImages(pod, undefined, {}, undefined, cache)).toEqual(first);
  });

  it('listImages flattens in extraction order', () => {
    const images = extractImages({ kind: 'Pod', spec: podSpec }, undefined);
    expect(listImages(images).map((x) => [x.extractor, x.key, x.info.reference])).toEqual([
      ['initContainers', 'init', 'docker.io/busybox:latest'],
      ['containers', 'app', 'ghcr.io/org/app:1'],
      ['ephemeralContainers', 'debug', 'docker.io/alpine:latest'],
    ]);
  });
});
