#!/usr/bin/env node
// Copies the root LICENSE into every published package before packing (each tarball ships it).
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

for (const name of readdirSync('packages')) {
  const manifest = JSON.parse(readFileSync(join('packages', name, 'package.json'), 'utf8'));
  if (manifest.private) continue;
  copyFileSync('LICENSE', join('packages', name, 'LICENSE'));
}
