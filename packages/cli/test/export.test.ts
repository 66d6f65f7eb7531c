import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  bashExportLine,
  dotenvLine,
  exportVariables,
  githubEnvEntry,
  parseExportMode,
  resolveExportTarget,
  shellQuote,
} from '../src/export.js';

// Visible-ASCII values with everything a shell or a dotenv reader could misread.
const AWKWARD = [
  "it's:a'quote",
  'dollar:$HOME${PATH}$(id)`id`',
  'back\\slash:"double"',
  "all'of\"them:$x\\y`z'!#&;|<>*?~",
  'plain-access:plain+secret/=',
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toolkit-ci-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What bash sees in $NAME after sourcing `file` (the value travels back through a file, not argv). */
function sourcedValue(file: string, name: string): string {
  const out = join(dir, 'out');
  execFileSync('bash', ['-c', `source "$1"; printf '%s' "\${${name}}" > "$2"`, 'bash', file, out], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    // Debian's bash reads ~/.bashrc when stdin is a socket (as under some CI agents): give it none.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return execFileSync('cat', [out], { encoding: 'utf8' });
}

describe('bash quoting', () => {
  it.each(AWKWARD)('bash reads back %s exactly', async (value) => {
    const file = join(dir, 'bash_env');
    await writeFile(file, bashExportLine('EAI_TOKEN', value));
    expect(sourcedValue(file, 'EAI_TOKEN')).toBe(value);
  });

  it("uses single quotes and '\\'' for a quote", () => {
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
    expect(bashExportLine('X', '$y')).toBe("export X='$y'\n");
  });

  it('refuses a line break (it would start another command)', () => {
    expect(() => bashExportLine('X', 'a\nexport Y=1')).toThrow(/line break/);
  });
});

describe('dotenv quoting', () => {
  it.each(AWKWARD)('a POSIX shell reads back %s from the dotenv line', async (value) => {
    const file = join(dir, 'dotenv');
    await writeFile(file, dotenvLine('EAI_TOKEN', value));
    expect(sourcedValue(file, 'EAI_TOKEN')).toBe(value);
  });

  it('leaves plain values bare (docker --env-file reads them literally)', () => {
    expect(dotenvLine('EAI_TOKEN', 'plain-access:plain+secret/=')).toBe(
      'EAI_TOKEN=plain-access:plain+secret/=\n',
    );
  });
});

describe('GitHub env file', () => {
  it('writes the documented heredoc form', () => {
    expect(githubEnvEntry('EAI_TOKEN', "a'b$c", 'DELIM')).toBe("EAI_TOKEN<<DELIM\na'b$c\nDELIM\n");
    expect(githubEnvEntry('EAI_TOKEN', 'v')).toMatch(
      /^EAI_TOKEN<<ghadelimiter_[0-9a-f-]{36}\nv\nghadelimiter_/,
    );
  });
});

describe('parseExportMode and resolveExportTarget', () => {
  it('parses every mode and refuses others', () => {
    expect(parseExportMode('auto')).toEqual({ kind: 'auto' });
    expect(parseExportMode('dotenv=.env')).toEqual({ kind: 'dotenv', path: '.env' });
    expect(() => parseExportMode('dotenv=')).toThrow(/needs a file path/);
    expect(() => parseExportMode('bash')).toThrow(/--export must be auto, bash-env/);
  });

  it('auto: CircleCI with BASH_ENV, then GitHub, else none', () => {
    const auto = { kind: 'auto' } as const;
    expect(resolveExportTarget(auto, { CIRCLECI: 'true', BASH_ENV: '/tmp/b', GITHUB_ENV: '/g' })).toEqual({
      kind: 'bash-env',
      file: '/tmp/b',
      ci: 'CircleCI',
    });
    expect(resolveExportTarget(auto, { GITHUB_ENV: '/g' })).toEqual({ kind: 'github-env', file: '/g' });
    expect(resolveExportTarget(auto, { BASH_ENV: '/tmp/b' })).toEqual({ kind: 'none' });
    expect(resolveExportTarget(auto, { CIRCLECI: 'true' })).toMatchObject({
      kind: 'none',
      reason: /BASH_ENV is not set/,
    });
  });

  it('an explicit mode needs its variable', () => {
    expect(() => resolveExportTarget({ kind: 'bash-env' }, {})).toThrow(
      /needs the environment variable BASH_ENV/,
    );
    expect(() => resolveExportTarget({ kind: 'github-env' }, {})).toThrow(/GITHUB_ENV/);
    expect(resolveExportTarget({ kind: 'dotenv', path: 'x.env' }, {}, (p) => `/work/${p}`)).toEqual({
      kind: 'dotenv',
      file: '/work/x.env',
    });
  });
});

describe('exportVariables', () => {
  it('appends to BASH_ENV, keeping what CircleCI put there', async () => {
    const file = join(dir, 'circle_bash_env');
    await writeFile(file, 'export CIRCLE_X=1\n');
    const report = await exportVariables({ kind: 'bash-env', file, ci: 'CircleCI' }, [['EAI_TOKEN', "q'$"]]);
    expect(report.message).toBe('Exported EAI_TOKEN to $BASH_ENV (CircleCI): later steps of this job see it');
    expect(await readFile(file, 'utf8')).toBe(`export CIRCLE_X=1\nexport EAI_TOKEN='q'\\''$'\n`);
  });

  it('creates a missing BASH_ENV with mode 0600', async () => {
    const file = join(dir, 'new_bash_env');
    await exportVariables({ kind: 'bash-env', file, ci: 'BASH_ENV' }, [['EAI_TOKEN', 'v']]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('rewrites a dotenv file with mode 0600, replacing old entries and keeping other lines, with a warning', async () => {
    const file = join(dir, 'ci.env');
    await writeFile(file, 'OTHER=1\nEAI_TOKEN=old\nexport EAI_CONSOLE_URL=old\n', { mode: 0o644 });
    const report = await exportVariables({ kind: 'dotenv', file }, [
      ['EAI_TOKEN', 'new:token'],
      ['EAI_CONSOLE_URL', 'http://127.0.0.1:1'],
    ]);
    expect(await readFile(file, 'utf8')).toBe(
      'OTHER=1\nEAI_TOKEN=new:token\nEAI_CONSOLE_URL=http://127.0.0.1:1\n',
    );
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(report.warning).toMatch(/holds the token in clear text.*rm -f/);
    expect(report.warning).not.toContain('new:token');
  });

  it('a dotenv file in a missing folder is a usage error naming the file', async () => {
    await expect(
      exportVariables({ kind: 'dotenv', file: join(dir, 'nope', 'x.env') }, [['A', 'b']]),
    ).rejects.toThrow(/cannot write the dotenv file .*nope\/x\.env.*ENOENT/);
  });

  it('none exports nothing', async () => {
    expect(await exportVariables({ kind: 'none' }, [['A', 'b']])).toEqual({
      target: { kind: 'none' },
      names: [],
      message: undefined,
    });
  });
});
