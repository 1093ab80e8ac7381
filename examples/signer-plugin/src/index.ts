/**
 * @vouch/example-signer-plugin: a Notary signer plugin backed by PKCS#12 files (or PEM key
 * directories), written once with the vouch plugin SDK and usable in-process
 * (`inProcessPlugin(plugin)`) or as the executable `notation-vouch-pkcs12`.
 */
export { DEFAULT_PASSWORD_ENV, type KeyStoreOptions, type LoadedKey, loadKey } from './keystore.js';
export { createPkcs12Plugin, PLUGIN_NAME, PLUGIN_VERSION, plugin } from './plugin.js';
