// actions/job run exactly as the GitHub runner runs it (test/support/runner.ts), from its committed bundle,
// against the Toolkit emulator over real HTTP. The poll pace is shortened through TOOLKIT_CI_POLL_*_MS.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmulatorHandle, startEmulator } from '../../../packages/emulator/src/index.js';
import { expectNoLeak, withoutMaskCommands } from '../../../test/support/leaks.js';
import { nodeRuntimes, REPO_ROOT } from '../../../test/support/nodes.js';
import { type RunActionOptions, type RunActionResult, runAction } from '../../../test/support/runner.js';

const ACTION = `${REPO_ROOT}/actions/job`;
// A role key whose encodings differ from its raw form, so every form is checked.
const TOKEN = 'ci-runner-4b1d:Qw8+e/r=t%y"u\\i9P';
const ROLE = { fullName: 'acme.ml.runner', account: 'acme.ml' };
const ENV_SECRET = 'pa55-w0rd-for-the-db';
const FAST_POLL = { TOOLKIT_CI_POLL_INITIAL_MS: '20', TOOLKIT_CI_POLL_MAX_MS: '100' };

let emu: EmulatorHandle;
/** Holds every job in QUEUING: a job that never ends on its own. */
let held: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 5, phaseSeconds: { requeue: 20 } });
  emu.addToken({ token: TOKEN, kind: 'role', identity: ROLE });
  held = await startEmulator({ timeScale: 5, phaseSeconds: { queuing: 1e12 } });
  held.addToken({ token: TOKEN, kind: 'role', identity: ROLE });
});
afterAll(async () => {
  await emu?.close();
  await held?.close();
});

async function run(
  target: EmulatorHandle,
  inputs: Record<string, string>,
  options: Partial<RunActionOptions> = {},
): Promise<RunActionResult> {
  return runAction({
    action: ACTION,
    ...options,
    with: { token: TOKEN, 'api-url': target.url, image: 'alpine:3.20', ...inputs },
    env: { ...FAST_POLL, ...options.env },
  });
}

/** The job's own log lines in the step's shown log, among the step's other lines. */
function jobLines(result: RunActionResult, pattern: RegExp): string[] {
  return result.main.lines.filter((line) => pattern.test(line));
}

function expectNoTokenLeak(result: RunActionResult, token = TOKEN): void {
  const phases = [['main', result.main] as const, ...(result.post ? [['post', result.post] as const] : [])];
  expectNoLeak(token, [
    ...phases.flatMap(([name, phase]) => [
      { name: `${name} stdout`, text: withoutMaskCommands(phase.stdout) },
      { name: `${name} stderr`, text: phase.stderr },
      { name: `${name} log`, text: phase.log },
    ]),
    { name: 'outputs', text: JSON.stringify(result.outputs) },
    { name: 'state', text: JSON.stringify(result.state) },
    { name: 'summary', text: result.summary },
  ]);
}

describe.each(nodeRuntimes().map((runtime) => [runtime.name, runtime.path]))('on %s', (_name, node) => {
  it('runs a job to SUCCEEDED: log streamed in order, each line once, outputs and summary set', async () => {
    const script = Array.from({ length: 10 }, (_, i) => `echo line ${i + 1}; sleep 4`).join('\n');
    const result = await run(
      emu,
      {
        command: `${script}\necho db is $DB_PASSWORD`,
        env: `DB_PASSWORD=${ENV_SECRET}\nMODE=ci`,
        name: 'ok_job',
      },
      { node },
    );
    try {
      expect(result.main.exitCode).toBe(0);
      const id = result.outputs['job-id'];
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.outputs).toEqual({
        'job-id': id,
        state: 'SUCCEEDED',
        'exit-code': '0',
        url: `${emu.url}/v1/job/${id}`,
      });
      expect(jobLines(result, /^line \d+$/)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 1}`));
      // The env value is masked in the job's own output too.
      expect(result.main.lines).toContain('db is ***');
      // Streamed: several log reads saw the log grow, not one read at the end.
      expect(
        emu.journal.filter((e) => e.path.startsWith(`/v1/job/${id}/logs`) && e.status === 200).length,
      ).toBeGreaterThan(2);
      // Each state change once.
      const states = result.main.lines.filter((l) => l.startsWith('Job state: '));
      expect(new Set(states).size).toBe(states.length);
      expect(states.at(-1)).toBe('Job state: SUCCEEDED (exited with code 0)');
      // The JobSpec is printed with every env value hidden; the values are registered with the masker.
      expect(result.main.groups).toContain('JobSpec (environment values hidden)');
      expect(result.main.log).toContain('"DB_PASSWORD=***"');
      expect(result.main.log).toContain('"MODE=***"');
      expect(result.main.masks).toContain(ENV_SECRET);
      expect(withoutMaskCommands(result.main.stdout)).not.toContain(ENV_SECRET);
      expect(result.summary).toContain('acme.ml.ok_job');
      expect(result.summary).toContain('SUCCEEDED');
      expect(result.summary).toContain(`${emu.url}/v1/job/${id}`);
      expect(result.post?.log).toContain('settled by the main step');
      expectNoTokenLeak(result);
    } finally {
      await result.cleanup();
    }
  });
});

describe('actions/job outcomes', () => {
  it('fails the step for exit code 3, with the state, the exit code and stateInfo in the message', async () => {
    const result = await run(emu, { command: 'echo failing now\nexit 3' });
    try {
      expect(result.main.exitCode).not.toBe(0);
      expect(result.outputs.state).toBe('FAILED');
      expect(result.outputs['exit-code']).toBe('3');
      const errors = result.main.annotations.filter((a) => a.level === 'error').map((a) => a.message);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/FAILED, exit code 3: exited with code 3$/);
      expect(jobLines(result, /^failing now$/)).toHaveLength(1);
      expect(result.post?.log).toContain('settled by the main step');
    } finally {
      await result.cleanup();
    }
  });

  it('follows a restartable job through INTERRUPTED to SUCCEEDED, printing both runs', async () => {
    const result = await run(emu, { command: 'echo first\ninterrupt\necho second', restartable: 'true' });
    try {
      expect(result.main.exitCode).toBe(0);
      expect(result.outputs.state).toBe('SUCCEEDED');
      // Run 1's line, then the state that ended it; run 2 from its start; the final state after its lines.
      const shown = result.main.lines.filter((l) =>
        /^(first|second|----- run \d of the job -----|Job state: (INTERRUPTED|SUCCEEDED).*)$/.test(l),
      );
      expect(shown).toEqual([
        'first',
        'Job state: INTERRUPTED (interrupted; restartable, so it is queued again)',
        '----- run 2 of the job -----',
        'first',
        'second',
        'Job state: SUCCEEDED (exited with code 0)',
      ]);
    } finally {
      await result.cleanup();
    }
  });

  it('keeps a job from issuing workflow commands through its log', async () => {
    const result = await run(emu, { command: 'echo ::error::injected\necho ::add-mask::line\necho after' });
    try {
      expect(result.main.exitCode).toBe(0);
      expect(result.main.annotations.map((a) => a.message)).not.toContain('injected');
      expect(result.main.masks).not.toContain('line');
      expect(result.main.lines).toContain('::error::injected');
      expect(result.main.lines).toContain('after');
    } finally {
      await result.cleanup();
    }
  });

  it('with wait: false, submits and ends at once; post leaves the job running', async () => {
    const result = await run(held, { command: 'echo x', wait: 'false' });
    try {
      expect(result.main.exitCode).toBe(0);
      expect(result.outputs.state).toBe('QUEUING');
      expect(result.outputs['exit-code']).toBe('');
      expect(held.job(result.outputs['job-id'])?.alive).toBe(true);
      expect(result.post?.log).toContain('settled by the main step');
    } finally {
      await result.cleanup();
    }
  });
});

describe('actions/job cancellation', () => {
  it('cancels the job and fails when timeout-minutes is reached', async () => {
    const result = await run(held, { command: 'echo x', 'timeout-minutes': '0.005' });
    try {
      const id = result.outputs['job-id'];
      expect(result.main.exitCode).not.toBe(0);
      expect(result.main.log).toMatch(/did not end within 300 ms.*it was cancelled \(now CANCELLED\)/);
      expect(
        held.journal.some((e) => e.method === 'DELETE' && e.path === `/v1/job/${id}` && e.status === 200),
      ).toBe(true);
      expect(held.job(id)?.state).toBe('CANCELLED');
      expect(result.outputs.state).toBe('CANCELLED');
      expect(result.post?.log).toContain('settled by the main step');
    } finally {
      await result.cleanup();
    }
  });

  it('cancels the job when the workflow is cancelled (SIGINT), then fails', async () => {
    const controller = new AbortController();
    const result = await run(
      held,
      { command: 'echo x' },
      {
        abortSignal: controller.signal,
        onOutput: (line) => {
          if (line.text.startsWith('Job state: QUEUING')) controller.abort();
        },
      },
    );
    try {
      const id = result.outputs['job-id'];
      expect(result.main.cancelled).toBe(true);
      expect(result.main.exitCode).not.toBe(0);
      expect(result.main.log).toContain('the workflow was cancelled (SIGINT)');
      expect(held.journal.filter((e) => e.method === 'DELETE' && e.path === `/v1/job/${id}`)).toHaveLength(1);
      expect(['CANCELLING', 'CANCELLED']).toContain(held.job(id)?.state);
      expect(result.post?.log).toContain('settled by the main step');
    } finally {
      await result.cleanup();
    }
  });

  it('post cancels a job still alive when main died before settling it (SIGKILL)', async () => {
    let submitted = false;
    const result = await run(
      held,
      { command: 'echo x' },
      {
        timeoutMs: 2000,
        onOutput: (line) => {
          if (line.text.startsWith('Submitted job')) submitted = true;
        },
      },
    );
    try {
      expect(submitted).toBe(true);
      expect(result.main.timedOut).toBe(true);
      const id = result.state.jobId;
      expect(id).toBeTruthy();
      expect(result.state.settled).toBeUndefined();
      expect(result.post?.exitCode).toBe(0);
      expect(result.post?.log).toContain(`Cancelled job ${id}`);
      expect(held.job(id)?.state).toMatch(/^CANCELL(ING|ED)$/);
    } finally {
      await result.cleanup();
    }
  });

  it('post cancels a job left alive when main failed while following it, unless cancel-on-abort is false', async () => {
    for (const cancelOnAbort of ['true', 'false']) {
      // The first poll after the submit gets a 404: main fails (not transient) and leaves the job unsettled.
      held.addFault({ method: 'GET', path: '/v1/job/*', status: 404, times: 1 });
      const result = await run(held, { command: 'echo x', 'cancel-on-abort': cancelOnAbort });
      try {
        const id = result.outputs['job-id'];
        expect(result.main.exitCode).not.toBe(0);
        if (cancelOnAbort === 'true') {
          expect(result.post?.log).toContain(`Cancelled job ${id}`);
          expect(held.job(id)?.state).toMatch(/^CANCELL(ING|ED)$/);
        } else {
          expect(result.post?.log).toContain('cancel-on-abort: false');
          expect(held.job(id)?.state).toBe('QUEUING');
        }
      } finally {
        await result.cleanup();
      }
    }
  });
});

describe('actions/job resilience', () => {
  it('survives 500s and a connection reset while polling, losing no line', async () => {
    emu.addFault({ method: 'GET', path: '/v1/job/*', status: 500, times: 1 });
    emu.addFault({ method: 'GET', path: '/v1/job/*', reset: true, times: 1 });
    const result = await run(emu, { command: 'echo a\nsleep 4\necho b\nsleep 4\necho c' });
    try {
      expect(result.main.exitCode).toBe(0);
      expect(jobLines(result, /^[abc]$/)).toEqual(['a', 'b', 'c']);
      expect(result.main.log).toMatch(/failed \(HTTP 500 Internal Server Error\); attempt 2/);
      expect(emu.journal.filter((e) => e.fault).length).toBe(2);
    } finally {
      await result.cleanup();
    }
  });

  it('refreshes an expired in-job token (token-source: job) and follows on', async () => {
    let emulatedNow = Date.now();
    const jobEmu = await startEmulator({ timeScale: 5, jobTokenTtl: 60, now: () => emulatedNow });
    try {
      const result = await runAction({
        action: ACTION,
        with: {
          'token-source': 'job',
          'job-token-url': `${jobEmu.internalUrl}/v1/token`,
          'api-url': jobEmu.url,
          image: 'alpine',
          command: 'echo one\nsleep 20\necho two',
        },
        env: { ...FAST_POLL, EAI_TOKEN: undefined },
        onOutput: (line) => {
          // The job token expires while the job runs.
          if (line.text.startsWith('Submitted job')) emulatedNow += 2 * 3600_000;
        },
      });
      try {
        expect(result.main.exitCode).toBe(0);
        expect(jobLines(result, /^(one|two)$/)).toEqual(['one', 'two']);
        const api = jobEmu.journal.filter((e) => e.target === 'api');
        expect(api.filter((e) => e.auth === 'expired')).toHaveLength(1);
        // main fetched two tokens (one refresh); post fetched none (main settled the job)
        expect(jobEmu.journal.filter((e) => e.target === 'internal')).toHaveLength(2);
        // every job token the step used was masked
        expect(result.main.masks.length).toBeGreaterThanOrEqual(2);
      } finally {
        await result.cleanup();
      }
    } finally {
      await jobEmu.close();
    }
  });
});

describe('actions/job JobSpec', () => {
  it('merges a spec file with the inputs (inputs win; env and tags merged by name)', async () => {
    const workDir = await mkdtemp(join(tmpdir(), 'job-spec-workspace-'));
    try {
      await mkdir(join(workDir, 'ci'));
      await writeFile(
        join(workDir, 'ci', 'job.yml'),
        [
          'image: registry.example.com/acme.ml/app:old',
          'command: [/bin/sh, -c, "echo from the spec file"]',
          'environmentVars: [MODE=file, KEEP=kept]',
          'tags: [{key: team, value: ml}]',
          'resources: {cpu: 1, mem: 4}',
          'restartable: true',
          '',
        ].join('\n'),
      );
      const result = await run(
        emu,
        {
          spec: 'ci/job.yml',
          image: 'registry.example.com/acme.ml/app:sha-1',
          env: 'MODE=input',
          cpu: '4',
          tags: 'sha=1',
        },
        { workDir },
      );
      try {
        expect(result.main.exitCode).toBe(0);
        expect(jobLines(result, /^from the spec file$/)).toHaveLength(1);
        expect(emu.job(result.outputs['job-id'])?.jobspec).toEqual({
          image: 'registry.example.com/acme.ml/app:sha-1',
          command: ['/bin/sh', '-c', 'echo from the spec file'],
          environmentVars: ['MODE=input', 'KEEP=kept'],
          tags: [
            { key: 'team', value: 'ml' },
            { key: 'sha', value: '1' },
          ],
          resources: { cpu: 4, mem: 4 },
          restartable: true,
          maxRunTime: 172800,
        });
      } finally {
        await result.cleanup();
      }
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  });

  it('refuses a bad spec before any request: no image, a bad name, a bad spec file', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ image: '', command: 'echo x' }, 'the JobSpec has no image. Set input "image"'],
      [{ name: 'Bad-Name' }, 'input "name" must match ^[a-z0-9_]+$'],
      [{ 'gpu-mem': 'lots' }, 'input "gpu-mem" must be a number > 0'],
      [{ spec: 'missing.yml' }, 'spec file "missing.yml" (input "spec") does not exist'],
      [{ env: `not a pair ${ENV_SECRET}` }, 'input "env" line 1 must look like NAME=VALUE'],
    ];
    for (const [index, [inputs, message]] of cases.entries()) {
      const before = emu.journal.length;
      // post runs once: it has nothing to clean up whatever the reason
      const result = await run(emu, inputs, { post: index === 0 });
      try {
        expect(result.main.exitCode).not.toBe(0);
        expect(result.main.annotations.find((a) => a.level === 'error')?.message).toContain(message);
        expect(result.main.log).not.toContain(ENV_SECRET);
        expect(emu.journal.length).toBe(before);
        if (result.post) expect(result.post.log).toContain('No job was submitted');
      } finally {
        await result.cleanup();
      }
    }
  });
});
