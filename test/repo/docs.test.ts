// README.md as a contract: its inputs/outputs tables are what `npm run docs` generates from each
// action.yml (scripts/docs.mjs, run here as the real script), the generator touches nothing outside its
// markers, and the README keeps the shape the project promises (the quick start on top, sections whose
// links resolve).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { REPO_ROOT } from '../support/nodes.js';

const run = promisify(execFile);
const DOCS = join(REPO_ROOT, 'scripts', 'docs.mjs');
const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toolkit-ci-docs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs scripts/docs.mjs; resolves with its exit code and output whatever the code. */
async function docs(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [DOCS, ...args], { cwd: REPO_ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The marked region of README for an action (markers excluded). */
function region(text: string, action: string): string {
  const start = `<!-- inputs:${action}:start -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(`<!-- inputs:${action}:end -->`);
  return from >= 0 && to > from ? text.slice(from + start.length, to) : '';
}

async function readmeCopy(name: string, edit: (text: string) => string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, edit(README));
  return file;
}

describe('inputs/outputs tables (npm run docs)', () => {
  it('README.md matches every action.yml (npm run docs -- --check)', async () => {
    const result = await docs('--check');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/README\.md matches \d+ action\.yml file/);
  });

  it('the login table lists every input and output of actions/login/action.yml', () => {
    const table = region(README, 'login');
    const row = (name: string) => new RegExp(`^\\| \`${name}\` +\\|`, 'm');
    for (const name of ['token', 'token-source', 'registry', 'api-url', 'verify', 'export-env', 'logout']) {
      expect(table).toMatch(row(name));
    }
    for (const name of ['identity', 'account', 'registries']) expect(table).toMatch(row(name));
    expect(table).toMatch(/^\| `registry` +\| no +\| `regular` +\|/m);
  });

  it('lays the tables out the way Biome formats markdown (npm run lint checks README.md)', async () => {
    const biome = join(REPO_ROOT, 'node_modules', '.bin', 'biome');
    await expect(run(biome, ['format', 'README.md'], { cwd: REPO_ROOT })).resolves.toBeDefined();
  });

  it('--check fails with a clear message when a table differs', async () => {
    const file = await readmeCopy('stale.md', (text) =>
      text.replace(/(\| `verify` +\| no +\| )`true` /, '$1`false`'),
    );
    const result = await docs('--check', '--readme', file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('differ from actions/login/action.yml');
    expect(result.stderr).toContain('Run `npm run docs`');
    // --check never writes.
    expect(await readFile(file, 'utf8')).toMatch(/\| `verify` +\| no +\| `false`/);
  });

  it('fails when the markers of an action are missing', async () => {
    const file = await readmeCopy('no-markers.md', (text) => text.replace('<!-- inputs:login:end -->', ''));
    const result = await docs('--check', '--readme', file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('<!-- inputs:login:end -->');
  });

  it('regenerates only the text between the markers', async () => {
    const outside = 'A line a user wrote outside the markers. | `verify` | no | `false` |';
    const file = await readmeCopy(
      'edited.md',
      (text) => `${text.replace(region(text, 'login'), '\nstale table\n')}\n${outside}\n`,
    );
    const result = await docs('--readme', file);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('updated the tables of actions/login');
    expect(await readFile(file, 'utf8')).toBe(`${README}\n${outside}\n`);
    // A second run has nothing to do.
    expect((await docs('--readme', file)).stdout).toContain('already up to date');
  });
});

describe('README.md shape', () => {
  const lines = README.split('\n');
  const headings = lines.filter((line) => /^#{1,6} /.test(line)).map((line) => line.replace(/^#+ /, ''));

  it('opens with the quick start: the first fenced block holds npm run demo and npm cit', () => {
    const firstFence = lines.findIndex((line) => line.startsWith('```'));
    const firstSection = lines.findIndex((line) => line.startsWith('## '));
    expect(firstFence).toBeGreaterThan(0);
    expect(firstFence).toBeLessThan(firstSection);
    const close = lines.findIndex((line, i) => i > firstFence && line.startsWith('```'));
    const block = lines.slice(firstFence + 1, close).map((line) => line.trim().split(/\s+#/)[0]?.trim());
    expect(block).toEqual(expect.arrayContaining(['npm run demo', 'npm cit']));
  });

  it('has the sections the project promises', () => {
    expect(headings).toEqual(
      expect.arrayContaining([
        'GitHub Actions: actions/login',
        'Exit codes',
        'CI/CD of this repository',
        'Benchmark',
        'Development',
      ]),
    );
    // The generated tables of each action sit in its section, before the next one.
    expect(README.indexOf('<!-- inputs:login:start -->')).toBeGreaterThan(
      README.indexOf('## GitHub Actions: actions/login'),
    );
    expect(README.indexOf('## Benchmark')).toBeLessThan(README.indexOf('## Development'));
  });

  it('documents the bundle-size budgets and the bench command', () => {
    expect(README).toMatch(/Bundle sizes/);
    expect(README).toContain('npm run bench');
    expect(README).toContain('npm run docs');
  });

  it('every in-page link (#anchor) points at a heading', () => {
    // GitHub's slugs: lower case, punctuation dropped except - and _, spaces to -.
    const slug = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-');
    const anchors = new Set(headings.map(slug));
    const links = [...README.matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1] as string);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
  });
});
