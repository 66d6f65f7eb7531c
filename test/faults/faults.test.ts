/**
 * The fault suite: Toolkit and the registries misbehave (the emulator's fault injection), and the product
 * either survives within the bounds the README states ("Reliability: timeouts and retries") or fails with a
 * clear error, and the post step still cleans up.
 *
 * Two levels:
 * - packages/core's ToolkitClient in-process, with the retry loop's sleep, clock and randomness injected
 *   (no test waits for a backoff, and the worst case of the jitter is chosen on purpose), so the bounds
 *   are checked as numbers, never as wall-clock durations. The hung-server case uses a real 100 ms
 *   per-attempt timeout and a clock that charges every attempt the product's 30 s, so the retry loop
 *   takes exactly the decisions it would take in production.
 * - actions/login from its committed bundle, through the runner harness: bursts it survives, failures it
 *   reports, a flapping registry, and the post step after main failed or was cancelled half-way.
 */
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUT_MS,
  dockerLogin,
  type RetryDeps,
  Token,
  ToolkitApiError,
  ToolkitCiError,
  ToolkitClient,
} from '../../packages/core/src/index.js';
import { type EmulatorHandle, type FaultRule, startEmulator } from '../../packages/emulator/src/index.js';
import { tempDockerConfig } from '../support/docker-config.js';
import {
  actionRunSinks,
  authHosts,
  errorMessages,
  type IsolatedRun,
  runActionIsolated,
} from '../support/isolated-run.js';
import { REPO_ROOT } from '../support/nodes.js';
import { findForms, type LeakSink, tokenForms } from '../support/token-forms.js';

const TOKEN = 'ci-faults-1a2b:Qw3+e/r=t%y"u\\i9';
const LOGIN_ACTION = `${REPO_ROOT}/actions/login`;
const UNRELATED = { auths: { 'unrelated.example.com': { auth: 'dW5yZWxhdGVk' } } };
const policy = DEFAULT_RETRY_POLICY;

/** The cap of the full-jitter wait after failed attempt `n` (1-based): min(8 s, 0.5 s x 2^(n-1)). */
const capAfter = (attempt: number) => Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
/** The README's bound on one call: no retry starts past 60 s, so at most 60 s plus one last attempt. */
const CALL_BOUND_MS = policy.maxElapsedMs + DEFAULT_TIMEOUT_MS;

let emulator: EmulatorHandle;

beforeAll(async () => {
  emulator = await startEmulator({
    timeScale: 5,
    tokens: [{ token: TOKEN, kind: 'role', identity: { fullName: 'acme.ml.pusher' } }],
  });
});
afterEach(() => {
  emulator.reset();
  counts.cases += 1;
});
afterAll(async () => {
  await emulator?.close();
  console.log(
    `Fault suite totals: ${counts.cases} cases run, ${counts.forms} token forms checked in ${counts.sinks} sinks ` +
      '(error messages, util.inspect of errors, and every sink of each action run, as in the leak suite)',
  );
});

const counts = { cases: 0, forms: 0, sinks: 0 };

/** No form of `token` in any sink (a fault must not shake a token loose either); counted for the totals. */
function expectNoLeak(token: string, sinks: LeakSink[]): void {
  const forms = tokenForms(token);
  counts.forms += forms.length;
  counts.sinks += sinks.length;
  expect(findForms(forms, sinks)).toEqual([]);
}

/**
 * Injected time: sleeps are recorded and return at once; `now` is the sum of the sleeps plus whatever
 * each attempt is charged (`chargePerAttempt` x requests the emulator saw, for a hung server).
 */
function virtualTime(options: { random?: number; chargePerAttempt?: number; path?: string } = {}) {
  const sleeps: number[] = [];
  const attempts = () =>
    emulator.journal.filter((entry) => entry.target === 'api' && entry.path === (options.path ?? '/v1/me'))
      .length;
  const deps: RetryDeps = {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    now: () => sleeps.reduce((sum, ms) => sum + ms, 0) + attempts() * (options.chargePerAttempt ?? 0),
    random: () => options.random ?? 0.999999,
  };
  return { deps, sleeps, attempts, elapsed: () => deps.now() };
}

function client(deps: RetryDeps, timeoutMs?: number): ToolkitClient {
  return new ToolkitClient({ apiUrl: emulator.url, token: TOKEN, deps, timeoutMs });
}

async function failureOf(promise: Promise<unknown>): Promise<ToolkitApiError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof ToolkitApiError)) throw error;
    expectNoLeak(TOKEN, [
      { name: 'error message', text: error.message },
      { name: 'util.inspect(error)', text: inspect(error, { depth: 6, showHidden: true }) },
    ]);
    return error;
  }
  throw new Error('expected the call to fail');
}

const onMe = (rule: FaultRule): FaultRule => ({ target: 'api', path: '/v1/me', ...rule });

describe('packages/core ToolkitClient under injected faults (virtual time)', () => {
  it('survives a burst of four 503s on the 5th attempt; the worst-case waits are 0.5, 1, 2, 4 s (7.5 s)', async () => {
    emulator.addFault(onMe({ status: 503, times: 4 }));
    const time = virtualTime();
    const api = client(time.deps);
    try {
      await expect(api.me()).resolves.toMatchObject({ fullName: 'acme.ml.pusher' });
    } finally {
      await api.close();
    }
    expect(time.attempts()).toBe(5);
    expect(time.sleeps).toHaveLength(4);
    time.sleeps.forEach((ms, index) => {
      expect(ms).toBeLessThanOrEqual(capAfter(index + 1));
    });
    expect(time.elapsed()).toBeLessThanOrEqual(7_500);
  });

  it('survives a mixed burst (500, 502, reset, body cut short) within the same waits', async () => {
    for (const rule of [{ status: 500 }, { status: 502 }, { reset: true }, { truncate: true, status: 200 }]) {
      emulator.addFault(onMe({ ...rule, times: 1 }));
    }
    const time = virtualTime();
    const api = client(time.deps);
    try {
      await expect(api.me()).resolves.toMatchObject({ fullName: 'acme.ml.pusher' });
    } finally {
      await api.close();
    }
    expect(time.attempts()).toBe(5);
    expect(time.elapsed()).toBeLessThanOrEqual(7_500);
  });

  it('gives up after 5 attempts of 503 with an unreachable error that names the call and counts them', async () => {
    emulator.addFault(onMe({ status: 503, times: 'always' }));
    const time = virtualTime();
    const api = client(time.deps);
    const error = await failureOf(api.me()).finally(() => api.close());
    expect(error.kind).toBe('unreachable');
    expect(error.message).toMatch(/^GET \/v1\/me failed with HTTP 503 Service Unavailable \(5 attempts\)/);
    expect(time.attempts()).toBe(policy.maxAttempts);
    expect(time.elapsed()).toBeLessThanOrEqual(7_500);
  });

  it('honours 429 Retry-After exactly (2 s twice), then succeeds', async () => {
    emulator.addFault(onMe({ status: 429, retryAfter: 2, times: 2 }));
    const time = virtualTime();
    const api = client(time.deps);
    try {
      await expect(api.me()).resolves.toMatchObject({ fullName: 'acme.ml.pusher' });
    } finally {
      await api.close();
    }
    expect(time.sleeps).toEqual([2_000, 2_000]);
  });

  it('caps a huge Retry-After at 30 s, and stops once the next wait would pass the 60 s budget', async () => {
    emulator.addFault(onMe({ status: 429, retryAfter: 3_600, times: 'always' }));
    const time = virtualTime();
    const api = client(time.deps);
    const error = await failureOf(api.me()).finally(() => api.close());
    expect(time.sleeps).toEqual([policy.maxRetryAfterMs, policy.maxRetryAfterMs]);
    expect(time.attempts()).toBe(3);
    expect(error.message).toMatch(/^GET \/v1\/me failed with HTTP 429 Too Many Requests \(3 attempts\)/);
    expect(time.elapsed()).toBeLessThanOrEqual(policy.maxElapsedMs);
  });

  it('a hung server ends in a timeout error: 2 attempts of 30 s (charged), within the 90 s bound', async () => {
    emulator.addFault(onMe({ latencyMs: 600_000, times: 'always' }));
    // Real attempts time out after 100 ms; the clock charges each the product's 30 s, so the retry loop
    // decides as in production: after two, 60 s have passed and no third attempt may start.
    const time = virtualTime({ random: 0.5, chargePerAttempt: DEFAULT_TIMEOUT_MS });
    const api = client(time.deps, 100);
    const error = await failureOf(api.me()).finally(() => api.close());
    expect(error.kind).toBe('unreachable');
    expect(error.message).toMatch(
      /^GET \/v1\/me to http:\/\/127\.0\.0\.1:\d+ failed: timed out after 100 ms \(2 attempts\)/,
    );
    expect(time.sleeps).toEqual([capAfter(1) / 2]);
    expect(time.elapsed()).toBe(2 * DEFAULT_TIMEOUT_MS + capAfter(1) / 2);
    expect(time.elapsed()).toBeLessThanOrEqual(CALL_BOUND_MS);
    // No answer was ever sent: every attempt was ended by the client's own timeout.
    expect(emulator.journal.filter((entry) => entry.path === '/v1/me').map((entry) => entry.status)).toEqual([
      0, 0,
    ]);
  });

  it('a hung server with short attempts: all 5 end in the timeout, never more', async () => {
    emulator.addFault(onMe({ latencyMs: 600_000, times: 'always' }));
    const time = virtualTime();
    const api = client(time.deps, 100);
    const error = await failureOf(api.me()).finally(() => api.close());
    expect(error.message).toMatch(/timed out after 100 ms \(5 attempts\)/);
    expect(time.attempts()).toBe(5);
  });

  it('never retries a POST the server may have processed (500), and does retry one it surely did not (503)', async () => {
    const spec = { image: 'alpine', command: ['true'] };
    emulator.addFault({ target: 'api', path: '/v1/job', method: 'POST', status: 500, times: 1 });
    const time = virtualTime({ path: '/v1/job' });
    const api = client(time.deps);
    try {
      const error = await failureOf(api.request('POST', '/v1/job', spec));
      expect(error.message).toMatch(
        /HTTP 500 Internal Server Error \(1 attempt; not retried: the server may have processed it\)/,
      );
      emulator.addFault({ target: 'api', path: '/v1/job', method: 'POST', status: 503, times: 1 });
      await expect(api.request('POST', '/v1/job', spec)).resolves.toMatchObject({ status: 201 });
    } finally {
      await api.close();
    }
  });
});

describe('docker login against a flapping registry (the docker CLI does not retry: reported clearly)', () => {
  it.each([
    [
      'answers 503',
      { status: 503 },
      /^Registry 127\.0\.0\.1:\d+ is unreachable \(the registry answered HTTP 503 Service Unavailable\)/,
    ],
    [
      'resets the connection',
      { reset: true },
      /^Registry 127\.0\.0\.1:\d+ is unreachable \(connection closed by the registry\)/,
    ],
  ] as const)(
    'when it %s: an unreachable error naming the registry and why',
    async (_what, rule, message) => {
      emulator.addFault({ target: 'registry', times: 'always', ...rule });
      const docker = await tempDockerConfig();
      try {
        const error = await dockerLogin(emulator.registryHost, new Token(TOKEN), {
          dockerConfig: docker.dir,
        }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ToolkitCiError);
        expect((error as ToolkitCiError).kind).toBe('unreachable');
        expect((error as ToolkitCiError).message).toMatch(message);
        expectNoLeak(TOKEN, [{ name: 'error message', text: (error as ToolkitCiError).message }]);
        expect(await docker.authHosts()).toEqual([]);
        // Once the registry is back, the same login works: nothing is left in a state that blocks a re-run.
        emulator.clearFaults();
        await dockerLogin(emulator.registryHost, new Token(TOKEN), { dockerConfig: docker.dir });
        expect(await docker.authHosts()).toEqual([emulator.registryHost]);
      } finally {
        await docker.cleanup();
      }
    },
  );
});

describe('actions/login (committed bundle) under faults', () => {
  const runs: IsolatedRun[] = [];
  afterAll(async () => {
    await Promise.all(runs.map((run) => run.cleanup()));
  });

  async function login(
    withInputs: Record<string, string> = {},
    options: { env?: Record<string, string>; cancelWhen?: () => boolean } = {},
  ): Promise<IsolatedRun> {
    const controller = new AbortController();
    let mainPid: number | undefined;
    const cancelWhen = options.cancelWhen;
    const poll = cancelWhen
      ? setInterval(() => {
          if (cancelWhen()) controller.abort();
        }, 5)
      : undefined;
    try {
      const run = await runActionIsolated({
        action: LOGIN_ACTION,
        with: {
          token: TOKEN,
          'api-url': emulator.url,
          registry: 'both',
          'registry-host': emulator.registryHost,
          'volatile-registry-host': emulator.volatileRegistryHost,
          ...withInputs,
        },
        env: options.env,
        dockerConfig: UNRELATED,
        abortSignal: cancelWhen ? controller.signal : undefined,
        onSpawn: (pid, phase) => {
          if (phase === 'main') mainPid = pid;
        },
        // A cancelled main leaves its docker child behind (the runner signals the step's process only):
        // end the step's process group before post runs, so no late write races the clean-up.
        betweenSteps: () => {
          clearInterval(poll);
          if (!cancelWhen || mainPid === undefined) return;
          try {
            process.kill(-mainPid, 'SIGKILL');
          } catch {
            // the group is already gone
          }
        },
      });
      runs.push(run);
      const token = withInputs.token ?? TOKEN;
      if (token) expectNoLeak(token, actionRunSinks(run).sinks);
      return run;
    } finally {
      clearInterval(poll);
    }
  }

  /** The waits the step announced ("attempt N in X s"), in seconds. */
  function announcedWaits(run: IsolatedRun): number[] {
    return [...run.result.main.log.matchAll(/attempt (\d+) in ([\d.]+) s/g)].map((m) => Number(m[2]));
  }

  function expectCleanFailure(run: IsolatedRun, message: RegExp): void {
    expect(run.result.main.exitCode).not.toBe(0);
    expect(errorMessages(run.result.main).join('\n')).toMatch(message);
    expect(run.result.exportedEnv).toEqual({});
    expect(run.result.post?.exitCode).toBe(0);
    expect(authHosts(run.dockerConfigAfterMain)).toEqual(['unrelated.example.com']);
    expect(authHosts(run.dockerConfigAfterPost)).toEqual(['unrelated.example.com']);
  }

  it('survives two 503s on GET /v1/me; each announced wait is within its cap', async () => {
    emulator.addFault(onMe({ status: 503, times: 2 }));
    const run = await login();
    expect(run.result.main.exitCode).toBe(0);
    const waits = announcedWaits(run);
    expect(waits).toHaveLength(2);
    waits.forEach((seconds, index) => {
      expect(seconds * 1000).toBeLessThanOrEqual(capAfter(index + 1));
    });
    expect(run.result.post?.exitCode).toBe(0);
    expect(authHosts(run.dockerConfigAfterPost)).toEqual(['unrelated.example.com']);
  });

  it('honours 429 Retry-After: 1 and succeeds', async () => {
    emulator.addFault(onMe({ status: 429, retryAfter: 1, times: 1 }));
    const run = await login();
    expect(run.result.main.exitCode).toBe(0);
    expect(run.result.main.log).toMatch(
      /GET \/v1\/me failed \(HTTP 429 Too Many Requests\); attempt 2 in 1\.0 s/,
    );
  });

  it('500 until the retries give up: fails naming call, status and attempts; nothing exported or left', async () => {
    emulator.addFault(onMe({ status: 500, retryAfter: 0, times: 'always' }));
    const run = await login();
    expectCleanFailure(run, /GET \/v1\/me failed with HTTP 500 Internal Server Error \(5 attempts\)/);
    expect(announcedWaits(run)).toEqual([0, 0, 0, 0]);
  });

  it('a flapping volatile registry (503): fails clearly, rolls back the regular login, and a re-run succeeds', async () => {
    emulator.addFault({ target: 'volatile-registry', status: 503, times: 'always' });
    const failed = await login();
    expectCleanFailure(
      failed,
      /Registry 127\.0\.0\.1:\d+ is unreachable \(the registry answered HTTP 503 Service Unavailable\)/,
    );
    expect(failed.result.main.log).toContain(`Logged out of ${emulator.registryHost} (the step failed)`);
    emulator.clearFaults();
    const rerun = await login();
    expect(rerun.result.main.exitCode).toBe(0);
    expect(rerun.result.outputs.registries).toBe(`${emulator.registryHost},${emulator.volatileRegistryHost}`);
  });

  it('a registry that resets the connection: fails clearly and leaves nothing', async () => {
    emulator.addFault({ target: 'volatile-registry', reset: true, times: 'always' });
    const run = await login();
    expectCleanFailure(run, /Registry 127\.0\.0\.1:\d+ is unreachable \(connection closed by the registry\)/);
  });

  it('post logs out of the first registry when main is cancelled during the second login', async () => {
    // The volatile registry hangs: main is cancelled (SIGINT, as the runner does) while docker waits on it.
    emulator.addFault({ target: 'volatile-registry', latencyMs: 600_000, times: 'always' });
    const run = await login(
      {},
      {
        cancelWhen: () => emulator.journal.some((entry) => entry.target === 'volatile-registry'),
      },
    );
    expect(run.result.main.cancelled).toBe(true);
    expect(JSON.parse(run.result.state.registries ?? '[]')).toEqual([emulator.registryHost]);
    expect(authHosts(run.dockerConfigAfterMain)).toEqual(
      [emulator.registryHost, 'unrelated.example.com'].sort(),
    );
    expect(run.result.post?.exitCode).toBe(0);
    expect(run.result.post?.log).toContain(`Logged out of ${emulator.registryHost}`);
    expect(authHosts(run.dockerConfigAfterPost)).toEqual(['unrelated.example.com']);
    expect(run.result.exportedEnv).toEqual({});
  });

  it.each([
    ['the API refuses the token (401)', { token: 'not-a-known:token' }, {}, /HTTP 401 Unauthorized/],
    ['the docker CLI is missing', {}, { PATH: '/nonexistent-bin' }, /The docker CLI was not found/],
    ['an input is invalid', { verify: 'yes' }, {}, /Input "verify" must be true or false/],
  ] as const)(
    'post still succeeds and nothing is left when main fails because %s',
    async (_why, inputs, env, message) => {
      const run = await login(inputs, { env });
      expectCleanFailure(run, message);
    },
  );
});
