/**
 * The CLI's surface as notation 1.3.2 shows it: `version`, command groups without a command,
 * `--help` (examples, flags with defaults, global flags), usage errors in pflag/cobra words and
 * notation's message for each missing positional argument. The notation lines quoted here were
 * read from notation 1.3.2 runs (program name substituted).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from './index.js';
import { layoutWithImage } from './testing/layout.js';
import { type CliRun, runVouch } from './testing/run-cli.js';
import { MISSING_ARGUMENT } from './usage-errors.js';

let root: string;

async function vouch(args: string[], extra: Partial<CliIo> = {}): Promise<CliRun> {
  return runVouch(args, { env: { HOME: join(root, 'home'), XDG_CONFIG_HOME: join(root, 'xdg') }, cwd: root, ...extra });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'vouch-usage-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('version', () => {
  it('prints notation-shaped text, and JSON with --output json', async () => {
    const t = await vouch(['version']);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(
      /^vouch - a tool to sign and verify artifacts\.\n\nVersion: {7}\d+\.\d+\.\d+\nNode version: {2}v\d+\.\d+\.\d+\n$/,
    );
    const j = await vouch(['version', '-o', 'json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.out)).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/), nodeVersion: process.version });
    const extra = await vouch(['version', 'extra']);
    expect(extra.code).toBe(1);
    expect(extra.err).toBe(`Error: unknown command "extra" for "vouch version"\nRun 'vouch version --help' for usage.\n`);
  });
});

describe('command groups and the bare program print their help on stdout and exit 0', () => {
  it.each([[[]], [['certificate']], [['cert']], [['key']], [['blob']], [['blob', 'policy']], [['policy']], [['plugin']], [['kyverno']]])(
    'vouch %j',
    async (args) => {
      const r = await vouch(args);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/\nUsage:\n {2}vouch( \S+)* \[command\]\n/);
      expect(r.out).toContain('Available Commands:');
    },
  );

  it('an unknown command of a group is an error (notation prints the group help)', async () => {
    const r = await vouch(['cert', 'lst']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`Error: unknown command "lst" for "vouch certificate"\nRun 'vouch certificate --help' for usage.\n`);
  });

  it('an unknown verb: cobra wording with the suggestion', async () => {
    const r = await vouch(['verfy', 'x']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`Error: unknown command "verfy" for "vouch"\n\nDid you mean this?\n\tverify\n\nRun 'vouch --help' for usage.\n`);
  });
});

describe('--help', () => {
  it('a verb: description, examples, usage, flags with defaults, and the global flags', async () => {
    const r = await vouch(['verify', '--help']);
    expect(r.code).toBe(0);
    const out = r.out;
    expect(out).toMatch(/^Verify OCI artifacts\n\nExample - [^\n]+:\n {2}vouch verify /);
    expect(out).toContain('\nUsage:\n  vouch verify [flags] <reference>\n');
    expect(out).toMatch(/\nFlags:\n(.*\n)*? {2}-h, --help {2,}help for verify\n/);
    expect(out).toMatch(/\n {6}--max-signatures n {2,}maximum number of signatures to evaluate \(default 100\)\n/);
    expect(out).toMatch(/\n {2}-m, --user-metadata key=value {2,}/);
    const global = out.slice(out.indexOf('\nGlobal Flags:\n'));
    expect(global).toMatch(/ {6}--config-dir dir {2,}/);
    expect(global).toMatch(/ {2}-d, --debug {2,}debug mode\n/);
    expect(global).toMatch(/ {2}-o, --output format {2,}output format: text or json \(default "text"\)\n/);
    expect(global).toMatch(/ {2}-v, --verbose {2,}verbose mode\n/);
  });

  it('flags are sorted by name, aliases listed, and drop-in mode says notation', async () => {
    const r = await vouch(['ls', '--help'], { programName: 'notation' });
    expect(r.out).toContain('\nUsage:\n  notation list [flags] <reference>\n\nAliases:\n  list, ls\n');
    expect(r.out).toContain('Example - List the signatures of an image:\n  notation list ');
    const flags = r.out
      .slice(r.out.indexOf('\nFlags:\n') + 8, r.out.indexOf('\n\nGlobal Flags:'))
      .split('\n')
      .map((l) => /--([a-z-]+)/.exec(l)?.[1]);
    expect(flags).toEqual([...flags].sort());
  });

  it('help <command path> is the help of that command', async () => {
    const r = await vouch(['help', 'cert', 'add']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('\nUsage:\n  vouch certificate add [flags] <files...>\n');
    expect((await vouch(['help'])).out).toMatch(/^vouch - /);
  });

  it('a group: commands sorted, and the pointer to <command> --help', async () => {
    const r = await vouch(['key', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Available Commands:\n {2}add {9}.*\n {2}delete {6}.*\n {2}list {8}.*\n {2}update {6}.*\n/);
    expect(r.out.trimEnd().endsWith('Use "vouch key [command] --help" for more information about a command.')).toBe(true);
  });
});

describe('references', () => {
  it('a one-letter layout directory is a directory (L:v1), not a Windows drive', async () => {
    const digest = await layoutWithImage(join(root, 'L'), 'v1', 'one letter');
    const r = await vouch(['list', '--oci-layout', 'L:v1']);
    expect(r.code).toBe(0);
    // resolved in layout L (unsigned: the line goes on with "has no associated signature…")
    expect(r.out.startsWith(`L@${digest}`)).toBe(true);
  });
});

describe('usage errors in notation words', () => {
  const verbs = Object.keys(MISSING_ARGUMENT);
  it.each(verbs)('vouch %s without its argument', async (verb) => {
    const r = await vouch(verb.split(' '));
    expect(r.code).toBe(1);
    expect(r.err.split('\n')[0]).toBe(`Error: ${MISSING_ARGUMENT[verb]!('vouch')}`);
  });

  it('the messages are notation 1.3.2 ones', () => {
    expect(MISSING_ARGUMENT.sign!('notation')).toBe(
      'missing reference to the artifact: use `notation sign --help` to see what parameters are required',
    );
    expect(MISSING_ARGUMENT['certificate show']!('notation')).toBe('missing certificate file name');
    expect(MISSING_ARGUMENT.login!('notation')).toBe('no hostname specified');
  });

  it.each([
    [['sign', '--bogus', 'x'], 'unknown flag: --bogus'],
    [['sign', '-z', 'x'], "unknown shorthand flag: 'z' in -z"],
    [['sign', '-e'], "flag needs an argument: 'e' in -e"],
    [['sign', '--expiry'], 'flag needs an argument: --expiry'],
    [
      ['sign', '-e', '1d', 'localhost:5000/app:v1'],
      'invalid argument "1d" for "-e, --expiry" flag: time: unknown unit "d" in duration "1d"',
    ],
    [['sign', '-m', 'a', 'localhost:5000/app:v1'], 'could not parse flag user-metadata: key-value pair requires "=" as separator'],
    [['verify', '--max-signatures', '0', 'localhost:5000/app:v1'], 'max-signatures value 0 must be a positive number'],
    [
      ['verify', '--max-signatures', 'abc', 'localhost:5000/app:v1'],
      'invalid argument "abc" for "--max-signatures" flag: strconv.ParseInt: parsing "abc": invalid syntax',
    ],
    [
      ['cert', 'generate-test', '-b', 'abc', 'x'],
      'invalid argument "abc" for "-b, --bits" flag: strconv.ParseInt: parsing "abc": invalid syntax',
    ],
    [['cert', 'generate-test', ''], 'name needs to follow [a-zA-Z0-9_.-]+ format'],
    [['cert', 'show', '-t', 'ca', '-s', 's', ''], 'certificate fileName cannot be empty'],
    [
      ['cert', 'delete'],
      'delete requires either the certificate file name that needs to be deleted or --all flag to delete all certificates in the given named trust store',
    ],
    [['key', 'update', ''], 'key name cannot be empty'],
    [['verify', ''], 'missing reference to the artifact: use `vouch verify --help` to see what parameters are required'],
    [['policy', 'import'], 'requires 1 argument but received 0.'],
    [['verify', 'a', 'b'], 'accepts at most 1 arg(s), received 2'],
    [['key', 'list', 'extra'], 'unknown command "extra" for "vouch key list"'],
    [['key', 'update', '--default', 'nope'], 'signing key nope not found'],
    [
      ['sign', '--insecure-registry=maybe', 'localhost:5000/app:v1'],
      'invalid argument "maybe" for "--insecure-registry" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
    ],
    [['key', 'delete', 'nope'], 'signing key nope not found'],
    [
      ['verify', '--scope', 'local/app', 'layout@sha256:0000'],
      'if any flags in the group [oci-layout scope] are set they must all be set; missing [oci-layout]',
    ],
  ])('vouch %j', async (args, first) => {
    const r = await vouch(args);
    expect(r.code).toBe(1);
    expect(r.err.split('\n')[0]).toBe(`Error: ${first}`);
  });

  it('policy import without a file says how to call it, as notation does', async () => {
    const r = await vouch(['policy', 'import']);
    expect(r.err).toMatch(
      /^Error: requires 1 argument but received 0\.\nUsage: vouch policy import <path-to-policy\.json>\nPlease specify a trust policy file location as the argument\n/,
    );
  });
});
