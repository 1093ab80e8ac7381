// Test-only entry: the SDK plugin as an executable. Key material comes from the environment.
import { runPluginCli } from '../cli/index.js';
import { makeSdkPlugin } from './sdk-plugin.js';

const plugin = makeSdkPlugin({
  keySpec: (process.env.VOUCH_TEST_KEY_SPEC ?? 'EC-256') as 'EC-256',
  keyPem: process.env.VOUCH_TEST_KEY_PEM ?? '',
  certDer: new Uint8Array(Buffer.from(process.env.VOUCH_TEST_CERT_B64 ?? '', 'base64')),
});
await runPluginCli(plugin);
