import type { SigstoreCase, SigstoreDefaults } from './cases.js';

export function bundleVerifyDir(): string;
export function publicGoodTrustedRoot(): string;
export function loadSigstoreCases(dir?: string): { present: boolean; cases: SigstoreCase[]; defaults?: SigstoreDefaults };
