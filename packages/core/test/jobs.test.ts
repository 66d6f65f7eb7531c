// JobClient against the Toolkit emulator over real HTTP. Polling sleeps go through an injected fake clock
// (a few real ms per sleep, so the emulator's scaled timeline moves on), so no test waits poll delays for real.
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmulatorHandle, startEmulator } from '../../emulator/src/index.js';
import { ToolkitApiError, ToolkitClient } from '../src/client.js';
import { ToolkitCiError } from '../src/errors.js';
import { fetchJobToken } from '../src/job-token.js';
import {
  assertJobSucceeded,
  DEFAULT_POLL_POLICY,
  isJobDone,
  type Job,
  JobClient,
  type JobSpec,
  type JobState,
  JobTimeoutError,
  jobOutcome,
  jobUrl,
} from '../src/jobs.js';

const TOKEN = 'jobs-test-access:jobs-test-secret';
const ROLE = { fullName: 'acme.ml.runner' };

/** A fake clock whose sleeps advance it at once and yield a few real ms to the emulator. */
function fakeTime(realMs = 3) {
  let clock = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => clock,
    sleep: async (ms: number, signal?: AbortSignal) => {
      sleeps.push(ms);
      clock += ms;
      await delay(realMs, undefined, signal ? { signal } : undefined);
    },
  };
}

function clientFor(
  emu: EmulatorHandle,
  token = TOKEN,
  extra: Partial<ConstructorParameters<typeof ToolkitClient>[0]> = {},
) {
  // The client's own retry waits are fake too: a 500 is retried without waiting for real.
  return new ToolkitClient({ apiUrl: emu.url, token, deps: { sleep: async () => {} }, ...extra });
}

function sh(script: string, extra: Partial<JobSpec> = {}): JobSpec {
  return { image: 'alpine:3.20', command: ['/bin/sh', '-c', script], ...extra };
}

interface Followed {
  job: Job;
  lines: string[];
  states: JobState[];
  /** Lines and states in the order they were reported. */
  events: string[];
  pollErrors: unknown[];
}

async function follow(
  jobs: JobClient,
  id: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
) {
  const seen: Followed = {
    job: undefined as unknown as Job,
    lines: [],
    states: [],
    events: [],
    pollErrors: [],
  };
  seen.job = await jobs.followJob(id, {
    ...options,
    onLog: (line) => {
      seen.lines.push(line);
      seen.events.push(line);
    },
    onState: (job) => {
      seen.states.push(job.state);
      seen.events.push(`state ${job.state}`);
    },
    onPollError: (error) => seen.pollErrors.push(error),
  });
  return seen;
}

let emu: EmulatorHandle;
/** Holds every job in QUEUING: for timeouts, delays and cancellation without racing a timer. */
let held: EmulatorHandle;

beforeAll(async () => {
  // A restartable job rests 60 real ms in INTERRUPTED before its requeue: many polls see it.
  emu = await startEmulator({ timeScale: 2, phaseSeconds: { requeue: 30 } });
  emu.addToken({ token: TOKEN, kind: 'role', identity: ROLE });
  held = await startEmulator({ timeScale: 2, phaseSeconds: { queuing: 1e12, cancelling: 1 } });
  held.addToken({ token: TOKEN, kind: 'role', identity: ROLE });
});
afterAll(async () => {
  await emu?.close();
  await held?.close();
});

describe('JobClient calls', () => {
  it('submits a job (201) and reads it back, by id and by full name', async () => {
    const jobs = new JobClient(clientFor(emu));
    const job = await jobs.submitJob(sh('echo hi', { name: 'submit_me' }));
    expect(job.state).toBe('QUEUING');
    expect(job.alive).toBe(true);
    expect(job.fullName).toBe('acme.ml.submit_me');
    expect((await jobs.getJob(job.id)).id).toBe(job.id);
    expect((await jobs.getJob('acme.ml.submit_me')).id).toBe(job.id);
    expect(emu.journal.some((e) => e.method === 'POST' && e.path === '/v1/job' && e.status === 201)).toBe(
      true,
    );
  });

  it('submits in a named account with POST /v1/account/{account}/job', async () => {
    const jobs = new JobClient(clientFor(emu));
    const job = await jobs.submitJob(sh('echo hi'), { account: 'acme.ml' });
    expect(job.id).toBeTruthy();
    expect(emu.journal.some((e) => e.path === '/v1/account/acme.ml/job' && e.status === 201)).toBe(true);
  });

  it('answers "" for a log with no output yet (204), then the whole text', async () => {
    const jobs = new JobClient(clientFor(held));
    const job = await jobs.submitJob(sh('echo never yet'));
    expect(await jobs.jobLog(job.id)).toBe('');
    expect(await jobs.jobLog(job.id, job.runs?.[0]?.id)).toBe('');
    await jobs.cancelJob(job.id);
  });

  it('refuses a JobSpec the API refuses (400), naming the server message', async () => {
    const jobs = new JobClient(clientFor(emu));
    const error = await jobs.submitJob({ image: 'alpine', name: 'Bad-Name' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolkitApiError);
    expect((error as ToolkitApiError).status).toBe(400);
    expect((error as Error).message).toContain('jobspec.name');
  });
});

describe('followJob', () => {
  it('streams every log line once, in order, and ends SUCCEEDED', async () => {
    const time = fakeTime();
    const jobs = new JobClient(clientFor(emu), { deps: time });
    const script = Array.from({ length: 12 }, (_, i) => `echo line ${i + 1}; sleep 2`).join('\n');
    const job = await jobs.submitJob(
      sh(`${script}\necho done with $GREETING`, { environmentVars: ['GREETING=hello'] }),
    );
    const seen = await follow(jobs, job.id);
    expect(seen.lines).toEqual([...Array.from({ length: 12 }, (_, i) => `line ${i + 1}`), 'done with hello']);
    // Each state change reported once, in the lifecycle's order (a short phase may pass between two polls).
    const order: JobState[] = ['QUEUING', 'QUEUED', 'RUNNING', 'SUCCEEDED'];
    expect(seen.states).toEqual(order.filter((state) => seen.states.includes(state)));
    expect(seen.states).toContain('RUNNING');
    expect(seen.states.at(-1)).toBe('SUCCEEDED');
    expect(seen.job.alive).toBe(false);
    const outcome = jobOutcome(seen.job);
    expect(outcome).toMatchObject({ ok: true, state: 'SUCCEEDED', exitCode: 0 });
    expect(() => assertJobSucceeded(seen.job)).not.toThrow();
    // The lines were streamed while the job ran: several polls saw new output, not one at the end.
    const logReads = emu.journal.filter(
      (e) => e.path.startsWith(`/v1/job/${job.id}/logs`) && e.status === 200,
    );
    expect(logReads.length).toBeGreaterThan(1);
  });

  it('ends FAILED for exit 3, and the outcome names the state, the exit code and stateInfo', async () => {
    const jobs = new JobClient(clientFor(emu), { deps: fakeTime() });
    const job = await jobs.submitJob(sh('echo about to fail; exit 3', { name: 'failing_job' }));
    const seen = await follow(jobs, job.id);
    expect(seen.lines).toEqual(['about to fail']);
    const outcome = jobOutcome(seen.job);
    expect(outcome.ok).toBe(false);
    expect(outcome.state).toBe('FAILED');
    expect(outcome.exitCode).toBe(3);
    expect(outcome.message).toBe(
      `job acme.ml.failing_job (${job.id}) FAILED, exit code 3: exited with code 3`,
    );
    const error = (() => {
      try {
        assertJobSucceeded(seen.job);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ToolkitCiError);
    expect((error as ToolkitCiError).kind).toBe('job-failed');
  });

  it('goes on through INTERRUPTED for a restartable job, printing both runs, and ends SUCCEEDED', async () => {
    const jobs = new JobClient(clientFor(emu), { deps: fakeTime() });
    const job = await jobs.submitJob(
      sh('echo start; sleep 1; interrupt; echo resumed', { restartable: true }),
    );
    const seen = await follow(jobs, job.id);
    expect(seen.states).toContain('INTERRUPTED');
    expect(seen.states.indexOf('INTERRUPTED')).toBeLessThan(seen.states.indexOf('SUCCEEDED'));
    expect(seen.job.state).toBe('SUCCEEDED');
    expect(seen.job.runs).toHaveLength(2);
    // run 1 printed "start" before its interruption; run 2 runs the script again, past `interrupt`
    expect(seen.lines).toEqual(['start', 'start', 'resumed']);
    // A state that ends a run comes after that run's lines.
    const events = seen.events.filter((e) => !/^state (QUEUING|QUEUED|RUNNING)$/.test(e));
    expect(events).toEqual(['start', 'state INTERRUPTED', 'start', 'resumed', 'state SUCCEEDED']);
  });

  it('ends at INTERRUPTED for a job that is not restartable', async () => {
    const jobs = new JobClient(clientFor(emu), { deps: fakeTime() });
    const job = await jobs.submitJob(sh('echo start; interrupt; echo never'));
    const seen = await follow(jobs, job.id);
    expect(seen.job.state).toBe('INTERRUPTED');
    expect(jobOutcome(seen.job).ok).toBe(false);
    expect(seen.lines).toEqual(['start']);
  });

  it('polls 1 s, then doubles up to 15 s', async () => {
    const time = fakeTime(1);
    const jobs = new JobClient(clientFor(held), { deps: time });
    const job = await jobs.submitJob(sh('echo x'));
    const error = await jobs.followJob(job.id, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobTimeoutError);
    expect(time.sleeps).toEqual([1000, 1000, 2000, 4000, 8000, 15000, 15000, 14000]);
    expect(Math.max(...time.sleeps)).toBeLessThanOrEqual(DEFAULT_POLL_POLICY.maxDelayMs);
    await jobs.cancelJob(job.id);
  });

  it('times out with the last job seen, and cancelAndWait cancels it (DELETE in the journal, CANCELLED)', async () => {
    const jobs = new JobClient(clientFor(held), { deps: fakeTime() });
    const job = await jobs.submitJob(sh('echo x'));
    const error = (await jobs
      .followJob(job.id, { timeoutMs: 30_000 })
      .catch((e: unknown) => e)) as JobTimeoutError;
    expect(error).toBeInstanceOf(JobTimeoutError);
    expect(error.kind).toBe('job-failed');
    expect(error.job.state).toBe('QUEUING');
    expect(error.message).toContain('did not end within 30s');
    const cancelled = await jobs.cancelAndWait(job.id);
    expect(cancelled.state).toBe('CANCELLED');
    expect(isJobDone(cancelled)).toBe(true);
    expect(
      held.journal.some((e) => e.method === 'DELETE' && e.path === `/v1/job/${job.id}` && e.status === 200),
    ).toBe(true);
    expect(held.job(job.id)?.state).toBe('CANCELLED');
  });

  it('stops following when its signal aborts, leaving the job alone', async () => {
    const jobs = new JobClient(clientFor(held), { deps: fakeTime() });
    const job = await jobs.submitJob(sh('echo x'));
    const controller = new AbortController();
    const reason = new Error('workflow cancelled');
    const following = jobs.followJob(job.id, { signal: controller.signal });
    await delay(10);
    controller.abort(reason);
    await expect(following).rejects.toBe(reason);
    expect(held.job(job.id)?.alive).toBe(true);
    await jobs.cancelJob(job.id);
  });

  it('survives 500s, resets and a truncated log while polling, losing no line and printing none twice', async () => {
    const jobs = new JobClient(clientFor(emu), { deps: fakeTime() });
    const job = await jobs.submitJob(
      sh('echo one; sleep 1; echo two; sleep 1; echo three; sleep 1; echo four'),
    );
    // More failures in a row than the client's 5 attempts: followJob itself must carry on.
    emu.addFault({ path: `/v1/job/${job.id}`, method: 'GET', status: 500, times: 7 });
    emu.addFault({ path: `/v1/job/${job.id}/logs/*`, reset: true, times: 2 });
    emu.addFault({ path: `/v1/job/${job.id}/logs/*`, truncate: true, times: 1 });
    emu.addFault({ path: `/v1/job/${job.id}`, method: 'GET', status: 503, times: 2 });
    const seen = await follow(jobs, job.id);
    expect(seen.job.state).toBe('SUCCEEDED');
    expect(seen.lines).toEqual(['one', 'two', 'three', 'four']);
    expect(seen.pollErrors.length).toBeGreaterThanOrEqual(1);
    expect(seen.pollErrors.every((e) => e instanceof ToolkitApiError && e.kind === 'unreachable')).toBe(true);
    const faulted = emu.journal.filter((e) => e.path.startsWith(`/v1/job/${job.id}`) && e.fault);
    expect(faulted.length).toBe(12);
  });

  it('gives up on an answer that is not transient (404 unknown job)', async () => {
    const jobs = new JobClient(clientFor(emu), { deps: fakeTime() });
    const error = await jobs.followJob('00000000-0000-4000-8000-000000000000').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolkitApiError);
    expect((error as ToolkitApiError).status).toBe(404);
  });

  it('refreshes an expired job token once (401) and follows on', async () => {
    let emulatedNow = Date.now();
    const jobEmu = await startEmulator({ timeScale: 2, jobTokenTtl: 60, now: () => emulatedNow });
    try {
      const tokenUrl = `${jobEmu.internalUrl}/v1/token`;
      const refresh = () => fetchJobToken(tokenUrl);
      const jobs = new JobClient(clientFor(jobEmu, await refresh(), { refreshToken: refresh }), {
        deps: fakeTime(),
      });
      const job = await jobs.submitJob(sh('echo a; sleep 2; echo b'));
      emulatedNow += 120_000; // the first job token has expired
      const seen = await follow(jobs, job.id);
      expect(seen.job.state).toBe('SUCCEEDED');
      expect(seen.lines).toEqual(['a', 'b']);
      const auths = jobEmu.journal.filter((e) => e.target === 'api').map((e) => e.auth);
      expect(auths.filter((a) => a === 'expired')).toHaveLength(1);
      expect(jobEmu.journal.filter((e) => e.target === 'internal')).toHaveLength(2);
    } finally {
      await jobEmu.close();
    }
  });
});

describe('jobOutcome and helpers', () => {
  const base: Job = {
    id: 'j1',
    state: 'SUCCEEDED',
    alive: false,
    runs: [{ id: 'r1', state: 'SUCCEEDED', exitCode: 0 }],
  };

  it('is ok only for SUCCEEDED', () => {
    for (const state of ['FAILED', 'CANCELLED', 'INTERRUPTED'] as const) {
      expect(jobOutcome({ ...base, state }).ok).toBe(false);
    }
    expect(jobOutcome(base)).toMatchObject({ ok: true, message: 'job j1 SUCCEEDED, exit code 0' });
  });

  it('says "no exit code" for a cancelled run and keeps stateInfo', () => {
    const job: Job = {
      ...base,
      state: 'CANCELLED',
      stateInfo: 'cancelled on request',
      runs: [{ id: 'r1', state: 'CANCELLED', exitCode: null }],
    };
    expect(jobOutcome(job).message).toBe('job j1 CANCELLED, no exit code: cancelled on request');
  });

  it('decides "done" from alive, or from the state when alive is missing', () => {
    expect(isJobDone({ id: 'a', state: 'INTERRUPTED', alive: true })).toBe(false);
    expect(isJobDone({ id: 'a', state: 'RUNNING', alive: false })).toBe(true);
    expect(isJobDone({ id: 'a', state: 'INTERRUPTED', jobspec: { image: 'x', restartable: true } })).toBe(
      false,
    );
    expect(isJobDone({ id: 'a', state: 'INTERRUPTED' })).toBe(true);
    expect(isJobDone({ id: 'a', state: 'QUEUED' })).toBe(false);
  });

  it('builds the url of a job from the api url', () => {
    expect(jobUrl('https://console.example.com/', 'a b')).toBe('https://console.example.com/v1/job/a%20b');
  });
});
