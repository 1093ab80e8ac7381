/**
 * Entry of the `notation-e2e-plugin` executable (see plugin.ts). Bundled to CommonJS by
 * build.mjs. The metadata depends on the request's pluginConfig, so each request is served by
 * the SDK's `servePluginRequest` with the plugin built for that configuration; verify-signature
 * responses are printed as the upstream Go plugin prints them (results sorted, no empty
 * reason, `"processedAttributes":null`).
 */
import { servePluginRequest } from '@vouch/plugin';
import { e2ePlugin, setRawExpirySeen } from './plugin.js';

async function main(): Promise<void> {
  const command = process.argv[2] ?? '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let request: unknown = {};
  try {
    request = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    process.stderr.write(JSON.stringify({ errorCode: 'VALIDATION_ERROR', errorMessage: 'the request is not valid JSON' }));
    process.exitCode = 1;
    return;
  }
  if (process.env.NOTATION_USERNAME || process.env.NOTATION_PASSWORD) {
    const msg = 'registry credentials (NOTATION_USERNAME / NOTATION_PASSWORD) must not be passed to plugins';
    process.stderr.write(JSON.stringify({ errorCode: 'VALIDATION_ERROR', errorMessage: msg }));
    process.exitCode = 1;
    return;
  }
  const r = (request ?? {}) as { pluginConfig?: Record<string, string>; signature?: { criticalAttributes?: { expiry?: unknown } } };
  setRawExpirySeen(typeof r.signature?.criticalAttributes?.expiry === 'string');
  const cfg = r.pluginConfig && typeof r.pluginConfig === 'object' ? r.pluginConfig : undefined;
  const result = await servePluginRequest(e2ePlugin(cfg), command, request);
  if (!result.ok) {
    process.stderr.write(JSON.stringify(result.error));
    process.exitCode = 1;
    return;
  }
  if (command === 'verify-signature') {
    const res = result.response as { verificationResults: Record<string, { success: boolean; reason?: string }> };
    const sorted: Record<string, { success: boolean; reason?: string }> = {};
    for (const k of Object.keys(res.verificationResults).sort()) {
      const v = res.verificationResults[k]!;
      sorted[k] = v.reason ? { success: v.success, reason: v.reason } : { success: v.success };
    }
    process.stdout.write(JSON.stringify({ verificationResults: sorted, processedAttributes: null }));
    return;
  }
  process.stdout.write(JSON.stringify(result.response));
}

main().catch((e: unknown) => {
  process.stderr.write(JSON.stringify({ errorCode: 'ERROR', errorMessage: e instanceof Error ? e.message : String(e) }));
  process.exitCode = 1;
});
