// Every state transition, observed through the API with bounded polling. Phases that must stay put long
// enough to be observed are held with a huge phaseSeconds instead of racing a timer.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmulatorHandle, startEmulator } from '../src/index.js';
import { call, pollJob, pollState, ROLE_TOKEN, sh, submit } from './helpers.js';

const FOREVER = 1e12;
let fast: EmulatorHandle;
let heldQueue: EmulatorHandle;
let heldEnd: EmulatorHandle;

beforeAll(async () => {
  fast = await startEmulator({ timeScale: 2 });
  heldQueue = await startEmulator({ timeScale: 2, phaseSeconds: { queued: FOREVER } });
  heldEnd = await startEmulator({ timeScale: 2, phaseSeconds: { cancelling: FOREVER, requeue: FOREVER } });
});

afterAll(async () => {
  await Promise.all([fast.close(), heldQueue.close(), heldEnd.close()]);
});

const ended = (job: { alive: boolean }) => !job.alive;

describe('queue', () => {
  it('goes QUEUING -> QUEUED and stays queued while the QUEUED phase lasts', async () => {
    const job = await submit(heldQueue.url, { image: 'x', command: sh('echo never') });
    expect(job.state).toBe('QUEUING');
    const queued = await pollState(heldQueue.url, job.id, 'QUEUED');
    expect(queued.alive).toBe(true);
    expect(queued.runs[0]).toMatchObject({ state: 'QUEUED', startedOn: null });
    expect(typeof queued.runs[0]!.queuedOn).toBe('string');
    expect((await call(heldQueue.url, 'GET', `/v1/job/${job.id}/logs`, { token: ROLE_TOKEN })).status).toBe(
      204,
    );
  });

  it('cancels a queued job: CANCELLING then CANCELLED, never started', async () => {
    const job = await submit(heldQueue.url, { image: 'x' });
    await pollState(heldQueue.url, job.id, 'QUEUED');
    const cancelling = await call(heldQueue.url, 'DELETE', `/v1/job/${job.id}`, { token: ROLE_TOKEN });
    expect(cancelling.status).toBe(200);
    expect(cancelling.json.state).toBe('CANCELLING');
    const cancelled = await pollJob(heldQueue.url, job.id, ended);
    expect(cancelled.state).toBe('CANCELLED');
    expect(cancelled.runs[0]).toMatchObject({ state: 'CANCELLED', startedOn: null, exitCode: null });
    expect(typeof cancelled.runs[0]!.cancelRequestedOn).toBe('string');
  });
});

describe('running and ending', () => {
  it('reaches RUNNING with the output so far while the script sleeps', async () => {
    const job = await submit(fast.url, { image: 'x', command: sh('echo started; sleep 100000; echo never') });
    const running = await pollState(fast.url, job.id, 'RUNNING');
    expect(running.alive).toBe(true);
    expect(running.runs[0]).toMatchObject({ state: 'RUNNING', endedOn: null, nodeName: 'emulator-node-1' });
    expect(typeof running.runs[0]!.startedOn).toBe('string');
    const log = await call(fast.url, 'GET', `/v1/job/${job.id}/logs`, { token: ROLE_TOKEN });
    expect(log.text).toBe('started\n');
    await call(fast.url, 'DELETE', `/v1/job/${job.id}`, { token: ROLE_TOKEN });
  });

  it('ends SUCCEEDED with exit code 0 and the whole log when the script ends', async () => {
    const job = await submit(fast.url, { image: 'x', command: sh('echo started; sleep 3; echo finished') });
    const done = await pollJob(fast.url, job.id, ended);
    expect(done).toMatchObject({ state: 'SUCCEEDED', stateInfo: 'exited with code 0' });
    expect(done.runs[0]).toMatchObject({ state: 'SUCCEEDED', exitCode: 0 });
    expect(typeof done.runs[0]!.endedOn).toBe('string');
    expect(done.totalRuntime).toBeGreaterThan(0);
    expect((await call(fast.url, 'GET', `/v1/job/${job.id}/logs`, { token: ROLE_TOKEN })).text).toBe(
      'started\nfinished\n',
    );
  });

  it('ends FAILED with the exit code of `exit N`, and nothing after it runs', async () => {
    const job = await submit(fast.url, { image: 'x', command: sh('echo before && exit 3; echo after') });
    const done = await pollJob(fast.url, job.id, ended);
    expect(done).toMatchObject({ state: 'FAILED', stateInfo: 'exited with code 3' });
    expect(done.runs[0]!.exitCode).toBe(3);
    expect((await call(fast.url, 'GET', `/v1/job/${job.id}/logs`, { token: ROLE_TOKEN })).text).toBe(
      'before\n',
    );
  });

  it('expands environmentVars and the job variables; unknown commands print nothing', async () => {
    const job = await submit(fast.url, {
      image: 'x',
      command: sh('pip install -r requirements.txt\necho "$GREETING from ${EAI_JOB_ID}"'),
      environmentVars: ['GREETING=hello'],
    });
    await pollJob(fast.url, job.id, ended);
    const log = await call(fast.url, 'GET', `/v1/job/${job.id}/logs`, { token: ROLE_TOKEN });
    expect(log.text).toBe(`hello from ${job.id}\n`);
  });

  it('fails a job that runs past maxRunTime, saying so in stateInfo', async () => {
    const job = await submit(fast.url, {
      image: 'x',
      maxRunTime: 5,
      command: sh('echo working; sleep 1000'),
    });
    const done = await pollJob(fast.url, job.id, ended);
    expect(done).toMatchObject({ state: 'FAILED', stateInfo: 'maxRunTime of 5 s exceeded' });
    expect(done.runs[0]!.exitCode).toBeNull();
  });
});

describe('cancel', () => {
  it('cancels a running job: CANCELLING (held here) with cancelRequestedOn, alive until CANCELLED', async () => {
    const job = await submit(heldEnd.url, { image: 'x', command: sh('sleep 100000') });
    await pollState(heldEnd.url, job.id, 'RUNNING');
    const answer = await call(heldEnd.url, 'DELETE', `/v1/job/${job.id}`, { token: ROLE_TOKEN });
    expect(answer.json).toMatchObject({ state: 'CANCELLING', alive: true });
    expect(answer.json.runs[0].state).toBe('CANCELLING');
    expect(typeof answer.json.runs[0].cancelRequestedOn).toBe('string');
    const again = await call(heldEnd.url, 'DELETE', `/v1/job/${job.id}`, { token: ROLE_TOKEN });
    expect(again.status).toBe(200);
    expect(again.json.state).toBe('CANCELLING');
  });

  it('reaches CANCELLED one tick later, with alive false; cancelling an ended job changes nothing', async () => {
    const job = await submit(fast.url, { image: 'x', command: sh('echo hi; sleep 100000') });
    await pollState(fast.url, job.id, 'RUNNING');
    await call(fast.url, 'DELETE', `/v1/job/${job.id}`, { token: ROLE_TOKEN });
    const done = await pollJob(fast.url, job.id, ended);
    expect(done).toMatchObject({ state: 'CANCELLED', stateInfo: 'cancelled on request' });
    expect(done.runs[0]!.state).toBe('CANCELLED');
    const again = await call(fast.url, 'DELETE', `/v1/job/${job.id}`, { token: ROLE_TOKEN });
    expect(again.status).toBe(200);
    expect(again.json.state).toBe('CANCELLED');
  });
});

describe('interrupt, restart and retry', () => {
  it('shows a restartable interrupted job as INTERRUPTED but alive while it waits to be queued again', async () => {
    const job = await submit(heldEnd.url, {
      image: 'x',
      restartable: true,
      command: sh('echo try; interrupt'),
    });
    const interrupted = await pollState(heldEnd.url, job.id, 'INTERRUPTED');
    expect(interrupted.alive).toBe(true);
    expect(interrupted.runs[0]).toMatchObject({ state: 'INTERRUPTED', exitCode: null });
  });

  it('queues a restartable job again with a new run that continues past `interrupt`', async () => {
    const job = await submit(fast.url, {
      image: 'x',
      restartable: true,
      command: sh('echo attempt $EAI_RUN_ID; interrupt; echo resumed'),
    });
    const done = await pollJob(fast.url, job.id, ended);
    expect(done.state).toBe('SUCCEEDED');
    expect(done.runs.map((r) => r.state)).toEqual(['INTERRUPTED', 'SUCCEEDED']);
    const [first, second] = done.runs;
    const current = await call(fast.url, 'GET', `/v1/job/${job.id}/logs`, { token: ROLE_TOKEN });
    expect(current.text).toBe(`attempt ${second!.id}\nresumed\n`);
    const old = await call(fast.url, 'GET', `/v1/job/${job.id}/logs/${first!.id}`, { token: ROLE_TOKEN });
    expect(old.text).toBe(`attempt ${first!.id}\n`);
  });

  it('leaves a non-restartable interrupted job INTERRUPTED and not alive; a retry runs it to the end', async () => {
    const job = await submit(fast.url, { image: 'x', command: sh('interrupt; echo second run') });
    const interrupted = await pollJob(fast.url, job.id, ended);
    expect(interrupted).toMatchObject({ state: 'INTERRUPTED', stateInfo: 'interrupted; not restartable' });
    const retried = await call(fast.url, 'PUT', `/v1/job/${job.id}/retry`, { token: ROLE_TOKEN });
    expect(retried.status).toBe(200);
    expect(retried.json).toMatchObject({ state: 'QUEUING', alive: true });
    expect(retried.json.runs).toHaveLength(2);
    const done = await pollJob(fast.url, job.id, ended);
    expect(done.state).toBe('SUCCEEDED');
    expect((await call(fast.url, 'GET', `/v1/job/${job.id}/logs`, { token: ROLE_TOKEN })).text).toBe(
      'second run\n',
    );
  });

  it('retries FAILED and CANCELLED jobs, and refuses others with 409', async () => {
    const failed = await submit(fast.url, { image: 'x', command: sh('exit 1') });
    await pollJob(fast.url, failed.id, ended);
    expect((await call(fast.url, 'PUT', `/v1/job/${failed.id}/retry`, { token: ROLE_TOKEN })).status).toBe(
      200,
    );
    const rerun = await pollJob(fast.url, failed.id, ended);
    expect(rerun.runs.map((r) => r.state)).toEqual(['FAILED', 'FAILED']);

    const running = await submit(fast.url, { image: 'x', command: sh('sleep 100000') });
    const refused = await call(fast.url, 'PUT', `/v1/job/${running.id}/retry`, { token: ROLE_TOKEN });
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toMatch(
      /cannot be retried \(only INTERRUPTED, FAILED or CANCELLED\)$/,
    );
    await call(fast.url, 'DELETE', `/v1/job/${running.id}`, { token: ROLE_TOKEN });
    await pollJob(fast.url, running.id, ended);
    expect((await call(fast.url, 'PUT', `/v1/job/${running.id}/retry`, { token: ROLE_TOKEN })).status).toBe(
      200,
    );
    await call(fast.url, 'DELETE', `/v1/job/${running.id}`, { token: ROLE_TOKEN });

    const succeeded = await submit(fast.url, { image: 'x' });
    await pollJob(fast.url, succeeded.id, ended);
    expect((await call(fast.url, 'PUT', `/v1/job/${succeeded.id}/retry`, { token: ROLE_TOKEN })).status).toBe(
      409,
    );
  });
});
