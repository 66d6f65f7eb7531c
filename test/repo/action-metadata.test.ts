// Every actions/*/action.yml is held to what GitHub and its users expect of a JavaScript action: the
// node24 runtime, main/post files that exist (the committed bundle), a description and a default or
// `required: true` for every input, a description for every output, branding for the Marketplace, and no
// declared input the source never reads.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../support/nodes.js';
import { readActionManifest } from '../support/runner.js';

type Doc = Record<string, unknown>;

function asRecord(value: unknown): Doc {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Doc) : {};
}

const ACTIONS_DIR = join(REPO_ROOT, 'actions');
const actions = readdirSync(ACTIONS_DIR)
  .filter((name) => existsSync(join(ACTIONS_DIR, name, 'action.yml')))
  .sort();

// https://docs.github.com/en/actions/sharing-automations/creating-actions/metadata-syntax-for-github-actions#branding
const BRANDING_COLORS = ['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark'];
const TOP_LEVEL_KEYS = ['name', 'author', 'description', 'inputs', 'outputs', 'runs', 'branding'];

/** Every file under dir (recursively) whose name ends in .ts, as one text. */
function sourceText(dir: string): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'))
    .join('\n');
}

it('finds the actions (at least actions/login)', () => {
  expect(actions).toContain('login');
});

describe.each(actions)('actions/%s/action.yml', (action) => {
  const dir = join(ACTIONS_DIR, action);
  const doc = asRecord(parseYaml(readFileSync(join(dir, 'action.yml'), 'utf8')));
  const runs = asRecord(doc.runs);
  const inputs = Object.entries(asRecord(doc.inputs)).map(([name, spec]) => [name, asRecord(spec)] as const);
  const outputs = Object.entries(asRecord(doc.outputs)).map(
    ([name, spec]) => [name, asRecord(spec)] as const,
  );

  it('has a name, a description and only keys GitHub knows', () => {
    expect(typeof doc.name).toBe('string');
    expect(String(doc.description ?? '').length).toBeGreaterThan(20);
    expect(Object.keys(doc).filter((key) => !TOP_LEVEL_KEYS.includes(key))).toEqual([]);
  });

  it('runs on node24 with main and post files that exist', async () => {
    expect(runs.using).toBe('node24');
    expect(typeof runs.main).toBe('string');
    expect(typeof runs.post).toBe('string');
    for (const key of ['main', 'post']) {
      const file = join(dir, String(runs[key]));
      expect({ key, file, exists: existsSync(file) }).toEqual({ key, file, exists: true });
    }
    // The runner harness the e2e tests use reads the same metadata without complaint.
    await expect(readActionManifest(dir)).resolves.toMatchObject({ using: 'node24' });
  });

  it('describes every input and gives it a default or required: true', () => {
    expect(inputs.length).toBeGreaterThan(0);
    for (const [name, spec] of inputs) {
      const problems: string[] = [];
      if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) problems.push('name is not kebab-case');
      if (typeof spec.description !== 'string' || spec.description.trim().length < 10) {
        problems.push('no description');
      }
      const hasDefault = spec.default !== undefined && spec.default !== null;
      if (!hasDefault && spec.required !== true) problems.push('neither a default nor required: true');
      if (hasDefault && spec.required === true) problems.push('required: true with a default');
      expect({ input: name, problems }).toEqual({ input: name, problems: [] });
    }
  });

  it('describes every output', () => {
    for (const [name, spec] of outputs) {
      const ok = typeof spec.description === 'string' && spec.description.trim().length >= 10;
      expect({ output: name, described: ok }).toEqual({ output: name, described: true });
    }
  });

  it('has Marketplace branding', () => {
    const branding = asRecord(doc.branding);
    expect(typeof branding.icon).toBe('string');
    expect(String(branding.icon)).toMatch(/^[a-z0-9-]+$/);
    expect(BRANDING_COLORS).toContain(branding.color);
  });

  it('declares no input its source never reads (each name appears quoted in its src/ or a module it shares)', () => {
    // Inputs both actions share (job-token-url, …) are read in actions/common; the JobSpec inputs are named
    // once, in core's JOB_SPEC_FIELD_KEBAB, for the action and the CLI alike.
    const source = [
      join(dir, 'src'),
      join(ACTIONS_DIR, 'common', 'src'),
      join(REPO_ROOT, 'packages', 'core', 'src'),
    ]
      .map(sourceText)
      .join('\n');
    expect(source.length).toBeGreaterThan(0);
    const unread = inputs.map(([name]) => name).filter((name) => !source.includes(`'${name}'`));
    expect(unread).toEqual([]);
  });
});
