import { runCli } from '/work/main/packages/cli/src/index.js';
import { it } from 'vitest';
import { registryBinary, startRegistry } from '/work/main/packages/node/src/registry/testing/index.js';
it('x', async () => {
  let out = '', err = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {}, cwd: '/tmp' };
  await runCli(['demo', '--dir', '/tmp/demo-dbg'], io);
  const d = /registry.example.com\/demo\/app:v1 → (sha256:\w+)/.exec(out)![1];
  console.log(out.slice(0, 6000));
  out=''; err='';
  const c = await runCli(['--config-dir', '/tmp/demo-dbg/notation', 'verify', '--oci-layout', `/tmp/demo-dbg/layout/demo/app@${d}`, '--scope', 'registry.example.com/demo/app'], io);
  console.log(c, out, err);
  const reg = await startRegistry();
  out=''; err='';
  const c2 = await runCli(['demo', '--registry', reg.host], io);
  console.log(c2, out.slice(-3000), err);
  await reg.stop();
});
