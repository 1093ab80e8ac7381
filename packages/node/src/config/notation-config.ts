import { join } from 'node:path';
import { VouchError } from '@vouch/core';
import { ConfigPaths } from './dirs.js';
import { parseJsonFile, readRegularFile, writeFileAtomic } from './fsutil.js';

/** notation's `config.json`. Unknown fields are kept on save. */
export interface NotationConfig {
  /** Registries reached over plain HTTP. */
  insecureRegistries?: string[];
  /** Docker-style credential store (`docker-credential-<name>`). */
  credsStore?: string;
  /** Per-registry credential helpers. */
  credHelpers?: Record<string, string>;
  /** Default `--signature-format` (`jws` when absent). */
  signatureFormat?: 'jws' | 'cose';
  [field: string]: unknown;
}

function malformed(path: string, message: string): VouchError {
  return new VouchError('ERR_CONFIG_INVALID', `malformed config file ${path}: ${message}`, { details: { path } });
}

/** Validate a parsed `config.json` value. Throws ERR_CONFIG_INVALID. */
export function parseNotationConfig(value: unknown, path: string = ConfigPaths.CONFIG): NotationConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(path, 'expected a JSON object');
  const v = value as NotationConfig;
  if (v.insecureRegistries !== undefined && v.insecureRegistries !== null) {
    if (!Array.isArray(v.insecureRegistries) || v.insecureRegistries.some((r) => typeof r !== 'string')) {
      throw malformed(path, '"insecureRegistries" must be an array of strings');
    }
  }
  if (v.credsStore !== undefined && typeof v.credsStore !== 'string') throw malformed(path, '"credsStore" must be a string');
  if (v.credHelpers !== undefined && v.credHelpers !== null) {
    if (
      typeof v.credHelpers !== 'object' ||
      Array.isArray(v.credHelpers) ||
      Object.values(v.credHelpers).some((h) => typeof h !== 'string')
    ) {
      throw malformed(path, '"credHelpers" must be an object of strings');
    }
  }
  if (v.signatureFormat !== undefined && v.signatureFormat !== ('' as string)) {
    const f = String(v.signatureFormat).toLowerCase();
    if (f !== 'jws' && f !== 'cose') throw malformed(path, `signature format "${v.signatureFormat}" is not supported (jws, cose)`);
  }
  return { ...v };
}

/** Path of `config.json` in a config dir. */
export function notationConfigPath(configDir: string): string {
  return join(configDir, ConfigPaths.CONFIG);
}

/** Load `config.json`; an absent file is an empty config. Throws ERR_CONFIG_INVALID or ERR_IO. */
export async function loadNotationConfig(configDir: string): Promise<NotationConfig> {
  const path = notationConfigPath(configDir);
  const bytes = await readRegularFile(path, 'config file');
  if (bytes === undefined) return {};
  return parseNotationConfig(parseJsonFile(bytes, path, 'config file', 'ERR_CONFIG_INVALID'), path);
}

/** Validate and write `config.json` atomically with mode 0600. */
export async function saveNotationConfig(configDir: string, config: NotationConfig): Promise<void> {
  const path = notationConfigPath(configDir);
  const checked = parseNotationConfig(config, path);
  await writeFileAtomic(path, `${JSON.stringify(checked, null, 4)}\n`, 0o600);
}
