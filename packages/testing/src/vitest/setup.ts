/** Vitest setup file (vitest.config.ts `setupFiles`): registers the VouchError matchers for every test. */
import { expect } from 'vitest';
import { vouchMatchers } from './matchers.js';

expect.extend(vouchMatchers);
