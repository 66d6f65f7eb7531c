import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmulatorHandle, type Job, startEmulator } from '../src/index.js';
import { call, PERSONAL_TOKEN, pollState, READONLY_TOKEN, ROLE_TOKEN, sh, submit } from './helpers.js';

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 2 });
});

afterAll(async () => {
  await emu.close();
});

describe('GET /v1/me', () => {
  it('answers the role identity for a role key', async () => {
    const me = await call(emu.url, 'GET', '/v1/me', { token: ROLE_TOKEN });
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ name: 'pusher', fullName: 'demo.ci.pusher', mail: '' });
    expect(me.json.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(me.json.urn).toBe(`${me.json.organization}:role:${me.json.id}`);
    expect(typeof me.json.account).toBe('string');
    expect(typeof me.json.created).toBe('string');
  });

  it('answers the user identity for a personal token', async () => {
    const me = await call(emu.url, 'GET', '/v1/me', { token: PERSONAL_TOKEN });
    expect(me.json).toMatchObject({
      name: 'demo_user',
      fullName: 'demo.demo_user',
      mail: 'demo_user@example.com',
    });
    expect(me.json.urn).toContain(':user:');
  });

  it('answers any valid token, even one without user:get', async () => {
    emu.addToken({ token: 'only-jobs', kind: 'personal', permissions: ['job:get@*'] });
    expect((await call(emu.url, 'GET', '/v1/me', { token: 'only-jobs' })).status).toBe(200);
  });
});

describe('job submission', () => {
  it('answers 201 with a Job in QUEUING, in the caller account', async () => {
    const answer = await call(emu.url, 'POST', '/v1/job', {
      token: ROLE_TOKEN,
      body: { image: 'alpine', name: 'first', command: sh('sleep 100000') },
    });
    expect(answer.status).toBe(201);
    const job = answer.json as Job;
    const me = (await call(emu.url, 'GET', '/v1/me', { token: ROLE_TOKEN })).json;
    expect(job).toMatchObject({
      name: 'first',
      fullName: 'demo.ci.first',
      alive: true,
      state: 'QUEUING',
      account: me.account,
      organization: me.organization,
      creator: me.id,
      jobspec: { image: 'alpine', name: 'first', maxRunTime: 172800 },
    });
    expect(job.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(job.urn).toBe(`${me.organization}:account:${me.account}:job:${job.id}`);
    expect(job.runs).toHaveLength(1);
    expect(job.runs[0]).toMatchObject({ jobId: job.id, state: 'QUEUING', exitCode: null, startedOn: null });
    expect(typeof job.created).toBe('string');
    expect(typeof job.updatedOn).toBe('string');
    expect(typeof job.accessUrl).toBe('string');
    expect(job.totalRuntime).toBe(0);
    await call(emu.url, 'DELETE', `/v1/job/${job.id}`, { token: ROLE_TOKEN });
  });

  it('submits in a named account by full name or id', async () => {
    const me = (await call(emu.url, 'GET', '/v1/me', { token: PERSONAL_TOKEN })).json;
    const byName = await call(emu.url, 'POST', '/v1/account/demo.ci/job', {
      token: PERSONAL_TOKEN,
      body: { image: 'alpine', name: 'in_ci' },
    });
    expect(byName.status).toBe(201);
    expect(byName.json.fullName).toBe('demo.ci.in_ci');
    expect(byName.json.creator).toBe(me.id);
    const byId = await call(emu.url, 'POST', `/v1/account/${me.account}/job`, {
      token: PERSONAL_TOKEN,
      body: { image: 'alpine', name: 'mine' },
    });
    expect(byId.json.fullName).toBe('demo.demo_user.mine');
    const unknown = await call(emu.url, 'POST', '/v1/account/nope.nope/job', {
      token: ROLE_TOKEN,
      body: { image: 'x' },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.message).toBe("account 'nope.nope' not found");
  });

  it('answers 400 with a precise message for a bad JobSpec or bad JSON', async () => {
    const bad = await call(emu.url, 'POST', '/v1/job', {
      token: ROLE_TOKEN,
      body: { image: 'x', maxRunTime: '60' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({
      error: { code: 400, status: 'Bad Request', message: 'jobspec.maxRunTime must be an integer > 0' },
    });
    const notJson = await call(emu.url, 'POST', '/v1/job', { token: ROLE_TOKEN, rawBody: '{oops' });
    expect(notJson.status).toBe(400);
    expect(notJson.json.error.message).toBe('the request body is not valid JSON');
  });
});

describe('GET /v1/job/{id}', () => {
  it('finds a job by id and by full name org.account.name', async () => {
    const job = await submit(emu.url, { image: 'alpine', name: 'lookup' });
    const byId = await call(emu.url, 'GET', `/v1/job/${job.id}`, { token: ROLE_TOKEN });
    const byName = await call(emu.url, 'GET', '/v1/job/demo.ci.lookup', { token: ROLE_TOKEN });
    expect(byId.status).toBe(200);
    expect(byName.json.id).toBe(job.id);
    expect(emu.job('demo.ci.lookup')?.id).toBe(job.id);
    expect(emu.job(job.id)?.name).toBe('lookup');
  });

  it('answers 404 with the error body for an unknown job', async () => {
    const answer = await call(emu.url, 'GET', '/v1/job/00000000-0000-4000-8000-000000000000', {
      token: ROLE_TOKEN,
    });
    expect(answer.status).toBe(404);
    expect(answer.json.error).toEqual({
      code: 404,
      status: 'Not Found',
      message: "job '00000000-0000-4000-8000-000000000000' not found",
    });
  });
});

describe('logs', () => {
  it('answers 204 before any output, then the whole log of the current run', async () => {
    const job = await submit(emu.url, { image: 'alpine', command: sh('sleep 100000') });
    const before = await call(emu.url, 'GET', `/v1/job/${job.id}/logs`, { token: ROLE_TOKEN });
    expect(before.status).toBe(204);
    expect(before.text).toBe('');
    await call(emu.url, 'DELETE', `/v1/job/${job.id}`, { token: ROLE_TOKEN });

    const talker = await submit(emu.url, {
      image: 'alpine',
      command: sh('echo "line one"\necho line two'),
    });
    await pollState(emu.url, talker.id, 'SUCCEEDED');
    const log = await call(emu.url, 'GET', `/v1/job/${talker.id}/logs`, { token: ROLE_TOKEN });
    expect(log.status).toBe(200);
    expect(log.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(log.text).toBe('line one\nline two\n');
  });

  it('serves the log of one run by run id, and 404 for an unknown run', async () => {
    const job = await submit(emu.url, { image: 'alpine', command: ['echo', 'argv', 'form'] });
    const done = await pollState(emu.url, job.id, 'SUCCEEDED');
    const runLog = await call(emu.url, 'GET', `/v1/job/${job.id}/logs/${done.runs[0]!.id}`, {
      token: ROLE_TOKEN,
    });
    expect(runLog.text).toBe('argv form\n');
    const missing = await call(emu.url, 'GET', `/v1/job/${job.id}/logs/not-a-run`, { token: ROLE_TOKEN });
    expect(missing.status).toBe(404);
    expect(missing.json.error.message).toBe(`job '${job.id}' has no run 'not-a-run'`);
  });
});

describe('job lists', () => {
  let ids: string[];

  beforeAll(async () => {
    ids = [];
    for (const name of ['list_a', 'list_b', 'list_c'])
      ids.push((await submit(emu.url, { image: 'x', name })).id);
  });

  it('answers {items, metadata} with limit, offset, order and q=id__in', async () => {
    const q = `id__in=${ids[0]},${ids[2]}`;
    const answer = await call(emu.url, 'GET', `/v1/job?q=${encodeURIComponent(q)}&order=-created`, {
      token: ROLE_TOKEN,
    });
    expect(answer.status).toBe(200);
    expect(answer.json.metadata).toEqual({ limit: 100, offset: 0, q, total: 2 });
    expect(answer.json.items.map((j: Job) => j.id)).toEqual([ids[2], ids[0]]);

    const page = await call(
      emu.url,
      'GET',
      `/v1/job?q=${encodeURIComponent(`id__in=${ids.join(',')}`)}&order=name&limit=1&offset=1`,
      {
        token: ROLE_TOKEN,
      },
    );
    expect(page.json.items.map((j: Job) => j.name)).toEqual(['list_b']);
    expect(page.json.metadata).toMatchObject({ limit: 1, offset: 1, total: 3 });
  });

  it('lists my jobs and an account’s jobs', async () => {
    const personal = await submit(emu.url, { image: 'x', name: 'by_person' }, PERSONAL_TOKEN);
    const mine = await call(emu.url, 'GET', '/v1/me/job', { token: PERSONAL_TOKEN });
    expect(mine.json.items.map((j: Job) => j.id)).toContain(personal.id);
    expect(mine.json.items.map((j: Job) => j.id)).not.toContain(ids[0]);
    const account = await call(
      emu.url,
      'GET',
      `/v1/account/demo.ci/job?q=${encodeURIComponent('name=list_a')}`,
      {
        token: READONLY_TOKEN,
      },
    );
    expect(account.json.items.map((j: Job) => j.id)).toEqual([ids[0]]);
  });

  it('refuses a bad order or q with 400', async () => {
    const order = await call(emu.url, 'GET', '/v1/job?order=colour', { token: ROLE_TOKEN });
    expect(order.status).toBe(400);
    expect(order.json.error.message).toMatch(/^order must be one of/);
    const q = await call(emu.url, 'GET', '/v1/job?q=colour__in=red', { token: ROLE_TOKEN });
    expect(q.status).toBe(400);
    const limit = await call(emu.url, 'GET', '/v1/job?limit=-1', { token: ROLE_TOKEN });
    expect(limit.json.error.message).toBe('limit must be an integer >= 0');
  });
});

describe('role keys', () => {
  it('makes a key that works as a token, lists it without its secret, and revokes it', async () => {
    const made = await call(emu.url, 'POST', '/v1/role/demo.ci.pusher/key', {
      token: ROLE_TOKEN,
      body: { details: 'for ci' },
    });
    expect(made.status).toBe(201);
    expect(Object.keys(made.json).sort()).toEqual(['access', 'client', 'details', 'secret']);
    expect(made.json.details).toBe('for ci');
    const key = `${made.json.access}:${made.json.secret}`;

    const me = await call(emu.url, 'GET', '/v1/me', { token: key });
    expect(me.json.fullName).toBe('demo.ci.pusher');

    const roleId = me.json.id;
    const listed = await call(emu.url, 'GET', `/v1/role/${roleId}/key`, { token: ROLE_TOKEN });
    expect(listed.status).toBe(200);
    expect(listed.json.items.map((k: { access: string }) => k.access)).toEqual([
      'demo-access',
      made.json.access,
    ]);
    expect(listed.text).not.toContain(made.json.secret);

    const revoked = await call(emu.url, 'DELETE', `/v1/role/demo.ci.pusher/key/${made.json.access}`, {
      token: ROLE_TOKEN,
    });
    expect(revoked.status).toBe(204);
    const after = await call(emu.url, 'GET', '/v1/me', { token: key });
    expect(after.status).toBe(401);
    expect(after.json.error.message).toBe('token revoked');
    const again = await call(emu.url, 'DELETE', `/v1/role/demo.ci.pusher/key/${made.json.access}`, {
      token: ROLE_TOKEN,
    });
    expect(again.status).toBe(404);
  });

  it('answers 404 for an unknown role and 403 without role:new', async () => {
    expect((await call(emu.url, 'GET', '/v1/role/demo.ci.ghost/key', { token: ROLE_TOKEN })).status).toBe(
      404,
    );
    const refused = await call(emu.url, 'POST', '/v1/role/demo.ci.reader/key', { token: READONLY_TOKEN });
    expect(refused.status).toBe(403);
    expect(refused.json.error.message).toMatch(/^missing policy role:new@/);
  });
});

describe('swagger and unknown routes', () => {
  it('serves an OpenAPI 2 document of exactly the served paths, without a token', async () => {
    const doc = await call(emu.url, 'GET', '/v1/swagger.json');
    expect(doc.status).toBe(200);
    expect(doc.json.swagger).toBe('2.0');
    expect(Object.keys(doc.json.paths).sort()).toEqual(
      [
        '/v1/account/{account}/job',
        '/v1/job',
        '/v1/job/{id}',
        '/v1/job/{id}/logs',
        '/v1/job/{id}/logs/{runId}',
        '/v1/job/{id}/retry',
        '/v1/me',
        '/v1/me/job',
        '/v1/role/{role}/key',
        '/v1/role/{role}/key/{access}',
        '/v1/swagger.json',
      ].sort(),
    );
    expect(Object.keys(doc.json.paths['/v1/job/{id}']).sort()).toEqual(['delete', 'get']);
    expect(
      doc.json.paths['/v1/job/{id}/logs/{runId}'].get.parameters.map((p: { name: string }) => p.name),
    ).toEqual(['id', 'runId']);
  });

  it('answers 404 for an unknown route and 405 for a wrong method, with the error body', async () => {
    const missing = await call(emu.url, 'GET', '/v1/nothing', { token: ROLE_TOKEN });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      error: { code: 404, status: 'Not Found', message: 'no route GET /v1/nothing' },
    });
    const wrong = await call(emu.url, 'PATCH', '/v1/me', { token: ROLE_TOKEN });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
    expect(wrong.json.error.code).toBe(405);
  });
});

describe('in-job token endpoint', () => {
  it('answers a fresh plain-text token without auth, which works on the API', async () => {
    const first = await fetch(`${emu.internalUrl}/v1/token`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/plain/);
    const token = await first.text();
    const second = await (await fetch(`${emu.internalUrl}/v1/token`)).text();
    expect(token).not.toBe(second);
    const me = await call(emu.url, 'GET', '/v1/me', { token });
    expect(me.status).toBe(200);
    expect(me.json.fullName).toBe('demo.ci.pusher');
    expect((await fetch(`${emu.internalUrl}/v1/other`)).status).toBe(404);
  });
});
