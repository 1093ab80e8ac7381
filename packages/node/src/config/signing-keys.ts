import { join } from 'node:path';
import { VouchError } from '@vouch/core';
import { ConfigPaths } from './dirs.js';
import { parseJsonFile, readRegularFile, writeFileAtomic } from './fsutil.js';

/** A local key: a private key file and its certificate chain file (`notation key add`). */
export interface LocalKeySuite {
  name: string;
  keyPath: string;
  certPath: string;
}

/** A key held by a signing plugin (`notation key add --plugin NAME --id ID`). */
export interface PluginKeySuite {
  name: string;
  id: string;
  pluginName: string;
  /** Passed verbatim in every plugin request. */
  pluginConfig?: Record<string, string>;
}

/** One entry of `signingkeys.json`. */
export type KeySuite = LocalKeySuite | PluginKeySuite;

/** notation's `signingkeys.json`: the named signing keys and the default one. */
export interface SigningKeys {
  default?: string;
  keys: KeySuite[];
}

/** True for a plugin key entry. */
export function isPluginKey(key: KeySuite): key is PluginKeySuite {
  return 'pluginName' in key && typeof (key as PluginKeySuite).pluginName === 'string';
}

function malformed(message: string): VouchError {
  return new VouchError('ERR_CONFIG_INVALID', `malformed signingkeys.json: ${message}`);
}

/**
 * Validate a parsed `signingkeys.json` value with notation's rules: key names non-empty
 * and unique, each key either `keyPath`+`certPath` or `id`+`pluginName` (with a string map
 * `pluginConfig`), and `default`, when set, naming an existing key. Throws ERR_CONFIG_INVALID.
 */
export function parseSigningKeys(value: unknown): SigningKeys {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('expected a JSON object');
  const v = value as Record<string, unknown>;
  if (v.default !== undefined && typeof v.default !== 'string') throw malformed('"default" must be a string');
  if (v.keys !== undefined && v.keys !== null && !Array.isArray(v.keys)) throw malformed('"keys" must be an array');
  const keys: KeySuite[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of ((v.keys as unknown[] | undefined) ?? []).entries()) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw malformed(`key #${i + 1} is not an object`);
    const k = raw as Record<string, unknown>;
    if (typeof k.name !== 'string' || k.name === '') throw malformed(`key #${i + 1} has no name`);
    if (seen.has(k.name)) throw malformed(`multiple keys with name '${k.name}' found`);
    seen.add(k.name);
    const isLocal = k.keyPath !== undefined || k.certPath !== undefined;
    const isPlugin = k.id !== undefined || k.pluginName !== undefined;
    if (isLocal && isPlugin) throw malformed(`key '${k.name}' has both keyPath/certPath and id/pluginName`);
    if (isLocal) {
      if (typeof k.keyPath !== 'string' || k.keyPath === '') throw malformed(`key '${k.name}' has no keyPath`);
      if (typeof k.certPath !== 'string' || k.certPath === '') throw malformed(`key '${k.name}' has no certPath`);
      keys.push({ name: k.name, keyPath: k.keyPath, certPath: k.certPath });
    } else if (isPlugin) {
      if (typeof k.id !== 'string' || k.id === '') throw malformed(`key '${k.name}' has no id`);
      if (typeof k.pluginName !== 'string' || k.pluginName === '') throw malformed(`key '${k.name}' has no pluginName`);
      const entry: PluginKeySuite = { name: k.name, id: k.id, pluginName: k.pluginName };
      if (k.pluginConfig !== undefined && k.pluginConfig !== null) {
        if (typeof k.pluginConfig !== 'object' || Array.isArray(k.pluginConfig)) {
          throw malformed(`key '${k.name}': pluginConfig must be an object of strings`);
        }
        const cfg: Record<string, string> = {};
        for (const [ck, cv] of Object.entries(k.pluginConfig as Record<string, unknown>)) {
          if (typeof cv !== 'string') throw malformed(`key '${k.name}': pluginConfig value of '${ck}' must be a string`);
          cfg[ck] = cv;
        }
        entry.pluginConfig = cfg;
      }
      keys.push(entry);
    } else {
      throw malformed(`key '${k.name}' has neither keyPath/certPath nor id/pluginName`);
    }
  }
  const out: SigningKeys = { keys };
  if (v.default !== undefined && v.default !== '') {
    if (!seen.has(v.default as string)) throw malformed(`default key '${v.default}' not found`);
    out.default = v.default as string;
  }
  return out;
}

/** Path of `signingkeys.json` in a config dir. */
export function signingKeysPath(configDir: string): string {
  return join(configDir, ConfigPaths.SIGNING_KEYS);
}

/**
 * Load `signingkeys.json` from the config dir; an absent file is an empty key list.
 * Throws ERR_CONFIG_INVALID (malformed, symlink) or ERR_IO.
 */
export async function loadSigningKeys(configDir: string): Promise<SigningKeys> {
  const path = signingKeysPath(configDir);
  const bytes = await readRegularFile(path, 'signing keys file');
  if (bytes === undefined) return { keys: [] };
  const json = parseJsonFile(bytes, path, 'signing keys file', 'ERR_CONFIG_INVALID');
  return parseSigningKeys(json);
}

/** Validate and write `signingkeys.json` atomically with mode 0600. */
export async function saveSigningKeys(configDir: string, keys: SigningKeys): Promise<void> {
  const checked = parseSigningKeys(keys);
  const doc: Record<string, unknown> = {};
  if (checked.default) doc.default = checked.default;
  doc.keys = checked.keys;
  await writeFileAtomic(signingKeysPath(configDir), `${JSON.stringify(doc, null, 4)}\n`, 0o600);
}

/**
 * Add a key entry (name must be new: ERR_INVALID_ARGUMENT "<name>: already exists"),
 * optionally marking it default, and save. Returns the new document.
 */
export async function addSigningKey(configDir: string, key: KeySuite, options: { makeDefault?: boolean } = {}): Promise<SigningKeys> {
  const doc = await loadSigningKeys(configDir);
  if (doc.keys.some((k) => k.name === key.name)) {
    throw new VouchError('ERR_INVALID_ARGUMENT', `${key.name}: already exists`, { details: { name: key.name } });
  }
  doc.keys.push(key);
  if (options.makeDefault) doc.default = key.name;
  await saveSigningKeys(configDir, doc);
  return doc;
}

/** Mark an existing key as default (ERR_KEY_NOT_FOUND "signing key <name> not found" otherwise) and save. */
export async function setDefaultSigningKey(configDir: string, name: string): Promise<SigningKeys> {
  const doc = await loadSigningKeys(configDir);
  if (!doc.keys.some((k) => k.name === name)) {
    throw new VouchError('ERR_KEY_NOT_FOUND', `signing key ${name} not found`, { details: { name } });
  }
  if (doc.default !== name) {
    doc.default = name;
    await saveSigningKeys(configDir, doc);
  }
  return doc;
}

/**
 * Remove keys by name (all must exist, else ERR_KEY_NOT_FOUND and nothing changes); a
 * removed default is unset. Returns the removed names and whether the default was removed.
 */
export async function removeSigningKeys(
  configDir: string,
  names: readonly string[],
): Promise<{ removed: string[]; removedDefault?: string }> {
  const doc = await loadSigningKeys(configDir);
  for (const name of names) {
    if (!doc.keys.some((k) => k.name === name)) {
      throw new VouchError('ERR_KEY_NOT_FOUND', `signing key ${name} not found`, { details: { name } });
    }
  }
  const prevDefault = doc.default;
  doc.keys = doc.keys.filter((k) => !names.includes(k.name));
  let removedDefault: string | undefined;
  if (prevDefault && names.includes(prevDefault)) {
    removedDefault = prevDefault;
    delete doc.default;
  }
  await saveSigningKeys(configDir, doc);
  const out: { removed: string[]; removedDefault?: string } = { removed: [...new Set(names)] };
  if (removedDefault) out.removedDefault = removedDefault;
  return out;
}
