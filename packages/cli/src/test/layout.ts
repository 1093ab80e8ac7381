/** Test-only: an OCI image layout directory holding one small image. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeOciLayout } from '@vouch/node';
import { pushTestImage } from '@vouch/testing';

/** Create the layout `dir` (made if needed) with one image tagged `tag`; returns the image's digest. */
export async function layoutWithImage(dir: string, tag: string, content: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [] }));
  return (await pushTestImage(nodeOciLayout(dir), tag, content)).digest;
}
