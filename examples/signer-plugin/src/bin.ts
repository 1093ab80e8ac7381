// Entry of the executable `notation-vouch-pkcs12` (bundled to CommonJS by scripts/build.mjs).
import { runPluginCli } from '@vouch/plugin/cli';
import { plugin } from './plugin.js';

void runPluginCli(plugin);
