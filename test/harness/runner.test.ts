import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { nodeRuntimes, REPO_ROOT } from '../support/nodes.js';
import {
  evaluatePostIf,
  inputEnvName,
  parseCommandFile,
  parseWorkflowCommands,
  type RunActionOptions,
  type RunActionResult,
  runAction,
} from '../support/runner.js';
import { parseCommandLine, SecretMasker, splitOutputLines } from '../support/workflow-commands.js';

const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'dummy-action');
const SECRET = 's3cr3t-Value-91c4';

const results: RunActionResult[] = [];
const tempDirs: string[] = [];

async function run(options: Partial<RunActionOptions> & { with?: Record<string, string> }) {
  const result = await runAction({ action: FIXTURE, ...options, with: { secret: SECRET, ...options.with } });
  results.push(result);
  return result;
}

/** A copy of the fixture with action.yml edited (post-if, runs.using …). */
async function fixtureVariant(edit: (yml: string) => string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'toolkit-ci-fixture-'));
  tempDirs.push(dir);
  await cp(FIXTURE, dir, { recursive: true });
  await writeFile(join(dir, 'action.yml'), edit(await readFile(join(dir, 'action.yml'), 'utf8')));
  return dir;
}

afterAll(async () => {
  await Promise.all(results.map((r) => r.cleanup()));
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('nodeRuntimes', () => {
  it('lists the machine Node and Node 24 with their real versions', () => {
    const runtimes = nodeRuntimes();
    expect(runtimes).toHaveLength(2);
    expect(runtimes[0]).toMatchObject({ path: process.execPath, version: process.version });
    expect(runtimes[0]?.name).toMatch(/^node\d+ \(machine\)$/);
    expect(runtimes[1]?.name).toBe('node24');
    expect(runtimes[1]?.version).toMatch(/^v24\./);
  });
});

describe.each(nodeRuntimes())('runAction under $name', (runtime) => {
  describe('a successful step', () => {
    let result: RunActionResult;
    beforeAll(async () => {
      result = await run({ node: runtime.path, with: { 'greeting name': 'harness' } });
    });

    it('runs main and post under the requested node and succeeds', () => {
      expect(result.main).toMatchObject({ exitCode: 0, signal: null, failed: false, timedOut: false });
      expect(result.post).toMatchObject({ exitCode: 0, failed: false });
      expect(result.postSkipped).toBe(false);
    });

    it('masks the secret in the shown log of stdout and stderr but keeps the raw bytes', () => {
      expect(result.main.stdout).toContain(`secret is ${SECRET}`);
      expect(result.main.stderr).toContain(`stderr mentions ${SECRET}`);
      expect(result.main.log).toContain('secret is ***');
      expect(result.main.log).toContain('stderr mentions ***');
      expect(result.main.log).not.toContain(SECRET);
      expect(result.main.log).not.toContain('add-mask');
      expect(result.main.masks).toEqual([SECRET]);
    });

    it('keeps the mask for the post step, as the runner does for the whole job', () => {
      expect(result.post?.stdout).toContain(`post sees secret ${SECRET}`);
      expect(result.post?.log).toContain('post sees secret ***');
      expect(result.post?.log).not.toContain(SECRET);
    });

    it('passes inputs as INPUT_* with defaults, dashes kept and spaces turned into underscores', () => {
      expect(result.main.stdout).toContain('api-url=https://api.example.invalid');
      expect(result.main.stdout).toContain('greeting=harness verbose=false');
      expect(result.main.processEnv['INPUT_API-URL']).toBe('https://api.example.invalid');
      expect(result.main.processEnv.INPUT_MODE).toBe('ok');
    });

    it('closes stdin, runs in GITHUB_WORKSPACE and hides debug lines without step debug', () => {
      expect(result.main.stdout).toContain('stdin bytes=0');
      expect(result.main.stdout).toContain('cwd-is-workspace=true');
      expect(result.main.stdout).toContain('runner-debug=unset');
      expect(result.main.log).not.toContain('debug detail');
      expect(result.main.annotations).toContainEqual(
        expect.objectContaining({ level: 'debug', message: 'debug detail' }),
      );
    });

    it('shows groups and decodes command data and property escapes', () => {
      expect(result.main.lines).toContain('▶ Fixture group');
      expect(result.main.lines).toContain('inside the group');
      expect(result.main.groups).toEqual(['Fixture group']);
      expect(result.main.annotations).toContainEqual(
        expect.objectContaining({
          level: 'notice',
          message: 'note with 100% and a\nsecond line',
          properties: { title: 'Fixture: notice' },
        }),
      );
      expect(result.main.log).toContain('Notice: note with 100% and a\nsecond line');
    });

    it('prints commands verbatim between ::stop-commands:: and the resume token', () => {
      expect(result.main.lines).toContain('::error::not an error while stopped');
      expect(result.main.annotations.map((a) => a.message)).not.toContain('not an error while stopped');
    });

    it('reads outputs (heredoc and name=value), env, state, summary and path from the file commands', () => {
      expect(result.outputs).toMatchObject({
        result: 'line one\nline two',
        simple: 'value=with=equals',
        legacy: 'legacy value',
      });
      expect(result.exportedEnv).toEqual({
        FIXTURE_EXPORTED: 'exported value',
        FIXTURE_MULTI: 'first\nsecond',
      });
      expect(result.state).toEqual({
        phase: 'main-ran',
        'secret-length': String(SECRET.length),
        'legacy-state': 'legacy state',
      });
      expect(result.summary).toBe('### Fixture summary\npost summary\n');
      expect(result.path).toEqual(['/opt/fixture/bin']);
      expect(readFileSync(result.files.output, 'utf8')).toContain('result<<EOF_FIXTURE');
    });

    it('warns about the deprecated ::set-output:: and ::save-state:: commands', () => {
      const warnings = result.main.annotations.filter((a) => a.level === 'warning').map((a) => a.message);
      expect(warnings.some((w) => w.startsWith('The `set-output` command is deprecated'))).toBe(true);
      expect(warnings.some((w) => w.startsWith('The `save-state` command is deprecated'))).toBe(true);
    });

    it('gives post STATE_*, the exported env, the added PATH entry and fresh file-command files', () => {
      const post = result.post?.stdout ?? '';
      expect(post).toContain('post STATE_phase=main-ran');
      expect(post).toContain(`post STATE_secret-length=${SECRET.length}`);
      expect(post).toContain('post STATE_legacy-state=legacy state');
      expect(post).toContain('post FIXTURE_EXPORTED=exported value');
      expect(post).toContain('post FIXTURE_MULTI="first\\nsecond"');
      expect(post).toContain('post PATH starts with /opt/fixture/bin');
      expect(post).toContain('post GITHUB_STATE is fresh=true');
      expect(result.post?.files.state).not.toBe(result.main.files.state);
    });
  });

  it('gives the step a clean environment: nothing from the test process leaks in, undefined removes', async () => {
    process.env.TOOLKIT_CI_HARNESS_SENTINEL = 'must-not-leak';
    try {
      const result = await run({
        node: runtime.path,
        with: { mode: 'env' },
        env: { HOME: undefined, EXTRA_VAR: 'given' },
      });
      const keys = /env-keys=(.*)/.exec(result.main.stdout)?.[1]?.split(',') ?? [];
      expect(keys).toContain('EXTRA_VAR');
      expect(keys).toContain('GITHUB_OUTPUT');
      expect(keys).toContain('INPUT_SECRET');
      expect(keys).not.toContain('TOOLKIT_CI_HARNESS_SENTINEL');
      expect(keys).not.toContain('JEST_WORKER_ID');
      expect(keys).not.toContain('NODE_OPTIONS');
      expect(result.main.stdout).toContain('home=unset');
      expect(result.main.processEnv).toMatchObject({
        GITHUB_ACTIONS: 'true',
        CI: 'true',
        RUNNER_OS: 'Linux',
      });
      expect(result.main.processEnv.GITHUB_ACTION_PATH).toBe(FIXTURE);
    } finally {
      delete process.env.TOOLKIT_CI_HARNESS_SENTINEL;
    }
  });

  it('fails main on exit 1 with an error annotation and still runs post (post-if always())', async () => {
    const result = await run({ node: runtime.path, with: { mode: 'fail' } });
    expect(result.main).toMatchObject({ exitCode: 1, failed: true });
    expect(result.main.annotations).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'main failed on purpose',
        properties: { title: 'Fixture' },
      }),
    );
    expect(result.main.lines).toContain('Error: main failed on purpose');
    expect(result.post?.exitCode).toBe(0);
    expect(result.post?.stdout).toContain('post STATE_phase=main-ran');
  });

  it('skips post after a failed main when post-if is success(), runs it after a successful one', async () => {
    const action = await fixtureVariant((yml) =>
      yml.replace('  post: post.js', '  post: post.js\n  post-if: success()'),
    );
    const failed = await run({ action, node: runtime.path, with: { mode: 'fail' } });
    expect(failed.main.failed).toBe(true);
    expect(failed.post).toBeUndefined();
    expect(failed.postSkipped).toBe(true);
    const passed = await run({ action, node: runtime.path });
    expect(passed.post?.stdout).toContain('post STATE_phase=main-ran');
  });

  it('shows debug lines and sets RUNNER_DEBUG=1 when step debug is on', async () => {
    const result = await run({ node: runtime.path, env: { ACTIONS_STEP_DEBUG: 'true' } });
    expect(result.main.stdout).toContain('runner-debug=1');
    expect(result.main.lines).toContain('##[debug]debug detail');
    // The runner's own debug line for the exported variable, masked like everything else.
    expect(result.main.lines).toContain("##[debug]FIXTURE_EXPORTED='exported value'");
    expect(result.main.log).not.toContain(SECRET);
  });

  it('warns about undeclared with: keys like the runner, and still passes them', async () => {
    const result = await run({ node: runtime.path, with: { 'not-declared': 'x' } });
    expect(result.main.processEnv['INPUT_NOT-DECLARED']).toBe('x');
    expect(result.main.lines).toContain(
      "Warning: Unexpected input(s) 'not-declared', valid inputs are ['secret', 'mode', 'api-url', 'greeting name', 'verbose']",
    );
  });

  it('masks each line of a multi-line mask on its own', async () => {
    const result = await run({ node: runtime.path, with: { mode: 'multiline' } });
    expect(result.main.stdout).toContain('alpha-line is masked');
    expect(result.main.lines).toContain('*** is masked');
    expect(result.main.lines).toContain('and *** too');
    expect(result.main.masks).toEqual(
      expect.arrayContaining(['alpha-line\nbeta-line', 'alpha-line', 'beta-line']),
    );
  });

  it('fails the step when a file command is malformed, as the runner does', async () => {
    const result = await run({ node: runtime.path, with: { mode: 'bad-env-file' }, post: false });
    expect(result.main.exitCode).toBe(0);
    expect(result.main.failed).toBe(true);
    expect(result.main.lines).toContain("Error: Unable to process file command 'env' successfully.");
    expect(result.postSkipped).toBe(true);
  });

  it('refuses ::set-env:: unless ACTIONS_ALLOW_UNSECURE_COMMANDS is true', async () => {
    const refused = await run({ node: runtime.path, with: { mode: 'unsecure' }, post: false });
    expect(refused.main.failed).toBe(true);
    expect(refused.exportedEnv.OLD_STYLE).toBeUndefined();
    const allowed = await run({
      node: runtime.path,
      with: { mode: 'unsecure' },
      post: false,
      env: { ACTIONS_ALLOW_UNSECURE_COMMANDS: 'true' },
    });
    expect(allowed.main.failed).toBe(false);
    expect(allowed.exportedEnv.OLD_STYLE).toBe('value');
  });

  it('kills a step that outlives its timeout and reports it', async () => {
    const result = await run({ node: runtime.path, with: { mode: 'hang' }, timeoutMs: 400, post: false });
    expect(result.main).toMatchObject({ timedOut: true, signal: 'SIGKILL', exitCode: null, failed: true });
    expect(result.main.stdout).toContain('ready');
  });

  it('cancels like the runner (SIGINT first), then runs post-if always() post', async () => {
    const controller = new AbortController();
    const result = await run({
      node: runtime.path,
      with: { mode: 'sigint' },
      abortSignal: controller.signal,
      onOutput: (line, phase) => {
        if (phase === 'main' && line.text === 'ready') controller.abort();
      },
    });
    expect(result.main).toMatchObject({ cancelled: true, exitCode: 130, failed: true });
    expect(result.main.stdout).toContain('got SIGINT, cleaning up');
    expect(result.post?.exitCode).toBe(0);
  });

  it('reports the pid of each phase; the argv holds the script path and no input value', async () => {
    const seen: { phase: string; argv: string[] }[] = [];
    await run({
      node: runtime.path,
      onSpawn: (pid, phase) => {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
        seen.push({ phase, argv });
      },
    });
    expect(seen.map((s) => s.phase)).toEqual(['main', 'post']);
    expect(seen[0]?.argv).toEqual([runtime.path, join(FIXTURE, 'main.js')]);
    expect(seen[1]?.argv).toEqual([runtime.path, join(FIXTURE, 'post.js')]);
    expect(JSON.stringify(seen)).not.toContain(SECRET);
  });
});

describe('runAction: action.yml validation', () => {
  it('refuses a runtime other than node20/node24', async () => {
    const action = await fixtureVariant((yml) => yml.replace('using: node24', 'using: node16'));
    await expect(runAction({ action })).rejects.toThrow("runs.using 'node16' is not supported");
  });

  it('accepts node20', async () => {
    const action = await fixtureVariant((yml) => yml.replace('using: node24', 'using: node20'));
    const result = await run({ action, post: false });
    expect(result.main.exitCode).toBe(0);
  });
});

describe('parseCommandFile', () => {
  it('reads name=value and heredoc entries, the last value of a name winning', () => {
    const text = 'a=1\nb<<EOF\nx\ny\nEOF\n\nc=\na=2\nd<<END\nEND\n';
    expect(parseCommandFile(text)).toEqual({ a: '2', b: 'x\ny', c: '', d: '' });
  });

  it('keeps a value that contains both = and <<, splitting on whichever comes first', () => {
    expect(parseCommandFile('k=v<<w\nh<<X\n=a\nX\n')).toEqual({ k: 'v<<w', h: '=a' });
  });

  it('keeps \\r in values, as the Linux runner splits on \\n only', () => {
    expect(parseCommandFile('a=1\r\n')).toEqual({ a: '1\r' });
  });

  it('throws the runner messages on malformed content', () => {
    expect(() => parseCommandFile('x<<EOF\nno end\n')).toThrow("Matching delimiter not found 'EOF'");
    expect(() => parseCommandFile('just text\n')).toThrow("Invalid format 'just text'");
    expect(() => parseCommandFile('=v\n')).toThrow('Name must not be empty');
  });
});

describe('parseWorkflowCommands', () => {
  it('applies a mask only from the line that registers it', () => {
    const out = parseWorkflowCommands('early tok-123\n::add-mask::tok-123\nlate tok-123\n');
    expect(out.lines).toEqual(['early tok-123', 'late ***']);
    expect(out.masks).toEqual(['tok-123']);
  });

  it('merges overlapping masks into one *** like the runner', () => {
    const masker = new SecretMasker();
    masker.add('abc');
    masker.add('bcd');
    masker.add('abcdef-long');
    expect(masker.mask('xabcdx abcdef-long')).toBe('x***x ***');
  });

  it('optionally masks the encoded forms the runner value encoders add', () => {
    const masker = new SecretMasker({ valueEncoders: true });
    masker.add('p@ss word');
    expect(masker.mask(Buffer.from('p@ss word').toString('base64'))).toBe('***');
    expect(masker.mask('p%40ss%20word')).toBe('***');
  });

  it('decodes %25 last, so %2541 stays a literal %41', () => {
    expect(parseCommandLine('::debug::%2541%0A')?.data).toBe('%41\n');
    expect(parseCommandLine('::error file=a%2Cb%3Ac,line=3::m')?.properties).toEqual({
      file: 'a,b:c',
      line: '3',
    });
  });

  it('recognises the legacy ##[command] form anywhere in a line, and ignores unknown commands', () => {
    const out = parseWorkflowCommands('prefix ##[warning]old style\n::unknown::text\n  ::error::indented\n');
    expect(out.annotations.map((a) => [a.level, a.message])).toEqual([
      ['warning', 'old style'],
      ['error', 'indented'],
    ]);
    expect(out.lines).toEqual(['Warning: old style', '::unknown::text', 'Error: indented']);
  });

  it('warns on an empty ::add-mask:: and fails the step on a set-output without a name', () => {
    const out = parseWorkflowCommands('::add-mask::   \n::set-output::v\n');
    expect(out.lines[0]).toBe("Warning: Can't add secret mask for empty string in ##[add-mask] command.");
    expect(out.lines).toContain("Error: Unable to process command '::set-output::v' successfully.");
    expect(out.commandFailed).toBe(true);
  });

  it('processes stdout and stderr lines in the order they arrived', () => {
    const out = parseWorkflowCommands([
      { stream: 'stderr', text: '::add-mask::xyz' },
      { stream: 'stdout', text: 'got xyz' },
    ]);
    expect(out.lines).toEqual(['got ***']);
  });

  it('splits lines on \\n, \\r\\n and a lone \\r like the runner reader', () => {
    expect(splitOutputLines('a\r\nb\rc\nd')).toEqual(['a', 'b', 'c', 'd']);
    expect(splitOutputLines('a\n')).toEqual(['a']);
  });
});

describe('inputs and post-if', () => {
  it('names input variables like the runner', () => {
    expect(inputEnvName('api-url')).toBe('INPUT_API-URL');
    expect(inputEnvName('greeting name')).toBe('INPUT_GREETING_NAME');
  });

  it('evaluates the status functions post-if uses', () => {
    expect(evaluatePostIf('always()', 'failure')).toBe(true);
    expect(evaluatePostIf(`\${{ success() }}`, 'failure')).toBe(false);
    expect(evaluatePostIf('failure() || cancelled()', 'cancelled')).toBe(true);
    expect(evaluatePostIf('!cancelled()', 'cancelled')).toBe(false);
    expect(() => evaluatePostIf("env.X == 'y'", 'success')).toThrow('not supported');
  });
});
