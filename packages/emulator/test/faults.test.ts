// Every fault kind, observed from a plain fetch client; plus rule matching and the admin endpoints.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmulatorHandle, startEmulator } from '../src/index.js';
import { call, ROLE_TOKEN } from './helpers.js';

let emu: EmulatorHandle;

beforeAll(async () => {
  emu = await startEmulator({
    timeScale: 2,
    faults: [{ path: '/v1/swagger.json', status: 502 }],
  });
});

afterAll(async () => {
  await emu.close();
});

const me = () => call(emu.url, 'GET', '/v1/me', { token: ROLE_TOKEN });
const lastEntry = () => emu.journal.at(-1)!;

describe('fault kinds', () => {
  it('applies rules given in the options', async () => {
    const first = await call(emu.url, 'GET', '/v1/swagger.json');
    expect(first.status).toBe(502);
    expect(first.json).toEqual({
      error: { code: 502, status: 'Bad Gateway', message: 'injected fault: status 502' },
    });
    expect((await call(emu.url, 'GET', '/v1/swagger.json')).status).toBe(200);
  });

  it('status: answers the status with the error body, once by default', async () => {
    emu.addFault({ path: '/v1/me', status: 503 });
    const faulted = await me();
    expect(faulted.status).toBe(503);
    expect(faulted.json.error).toEqual({
      code: 503,
      status: 'Service Unavailable',
      message: 'injected fault: status 503',
    });
    expect(lastEntry()).toMatchObject({ path: '/v1/me', status: 503, fault: 'status 503', auth: 'valid' });
    expect((await me()).status).toBe(200);
  });

  it('429 with Retry-After; retryAfter alone implies 429', async () => {
    emu.addFault({ path: '/v1/me', status: 429, retryAfter: 7 });
    const limited = await me();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    emu.addFault({ path: '/v1/me', retryAfter: 0 });
    const implied = await me();
    expect(implied.status).toBe(429);
    expect(implied.headers.get('retry-after')).toBe('0');
  });

  it('latency: answers normally after the delay', async () => {
    emu.addFault({ path: '/v1/me', latencyMs: 15 });
    const slow = await me();
    expect(slow.status).toBe(200);
    expect(slow.json.fullName).toBe('demo.ci.pusher');
    expect(lastEntry()).toMatchObject({ status: 200, fault: 'latency 15ms' });
  });

  it('latency: a huge delay is a hung server that the client has to time out', async () => {
    emu.addFault({ path: '/v1/job', method: 'GET', latencyMs: 1e9 });
    const hung = fetch(`${emu.url}/v1/job`, {
      headers: { authorization: `Bearer ${ROLE_TOKEN}` },
      signal: AbortSignal.timeout(50),
    });
    await expect(hung).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(lastEntry()).toMatchObject({ path: '/v1/job', status: 0, fault: 'latency 1000000000ms' });
  });

  it('latency then status: delays, then answers the fault', async () => {
    emu.addFault({ path: '/v1/me', latencyMs: 5, status: 500 });
    expect((await me()).status).toBe(500);
    expect(lastEntry().fault).toBe('latency 5ms, status 500');
  });

  it('reset: destroys the connection without an answer', async () => {
    emu.addFault({ path: '/v1/me', reset: true });
    const error = await me().then(
      () => undefined,
      (e: Error) => e,
    );
    // fetch errors come from Node's realm, not jest's: compare by name and message.
    expect(error).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    expect(lastEntry()).toMatchObject({ status: 0, fault: 'reset' });
    expect((await me()).status).toBe(200);
  });

  it('truncate: sends headers promising more body than it sends, then closes', async () => {
    emu.addFault({ path: '/v1/me', truncate: true });
    const response = await fetch(`${emu.url}/v1/me`, { headers: { authorization: `Bearer ${ROLE_TOKEN}` } });
    expect(response.status).toBe(200);
    const declared = Number(response.headers.get('content-length'));
    await expect(response.text()).rejects.toMatchObject({ name: 'TypeError', message: 'terminated' });
    expect(declared).toBeGreaterThan(0);
    expect(lastEntry()).toMatchObject({ status: 200, fault: 'truncate' });

    emu.addFault({ path: '/v1/me', truncate: true, status: 503 });
    const failing = await fetch(`${emu.url}/v1/me`, { headers: { authorization: `Bearer ${ROLE_TOKEN}` } });
    expect(failing.status).toBe(503);
    await expect(failing.arrayBuffer()).rejects.toMatchObject({ name: 'TypeError', message: 'terminated' });
  });
});

describe('rule matching', () => {
  it('counts times, and keeps an `always` rule until cleared', async () => {
    emu.addFault({ path: '/v1/me', status: 500, times: 2 });
    expect([(await me()).status, (await me()).status, (await me()).status]).toEqual([500, 500, 200]);
    emu.addFault({ path: '/v1/me', status: 500, times: 'always' });
    for (let i = 0; i < 4; i++) expect((await me()).status).toBe(500);
    emu.clearFaults();
    emu.addFault({ path: '/v1/me', status: 501, times: -1 });
    expect([(await me()).status, (await me()).status]).toEqual([501, 501]);
    emu.clearFaults();
    expect((await me()).status).toBe(200);
  });

  it('matches by method, by path prefix ending in *, and by target', async () => {
    emu.addFault({ path: '/v1/job*', method: 'post', status: 504 });
    expect((await call(emu.url, 'GET', '/v1/job', { token: ROLE_TOKEN })).status).toBe(200);
    expect((await me()).status).toBe(200);
    expect((await call(emu.url, 'POST', '/v1/job', { token: ROLE_TOKEN, body: { image: 'x' } })).status).toBe(
      504,
    );

    emu.addFault({ target: 'internal', status: 500 });
    expect((await me()).status).toBe(200);
    expect((await fetch(`${emu.internalUrl}/v1/token`)).status).toBe(500);
    expect((await fetch(`${emu.internalUrl}/v1/token`)).status).toBe(200);

    emu.addFault({ target: 'registry', path: '/v2/', status: 503 });
    expect((await fetch(`http://${emu.volatileRegistryHost}/v2/`)).status).toBe(401);
    expect((await fetch(`http://${emu.registryHost}/v2/`)).status).toBe(503);
  });

  it('refuses a malformed rule', () => {
    expect(() => emu.addFault({ status: 42 })).toThrow(
      'invalid fault rule: status must be an HTTP status code',
    );
    expect(() => emu.addFault({ times: 0 })).toThrow("times must be a number >= 1, -1 or 'always'");
  });
});

describe('admin endpoints', () => {
  it('adds, lists and clears faults over HTTP (outside /v1, unjournaled, never faulted)', async () => {
    const before = emu.journal.length;
    const added = await call(emu.adminUrl, 'POST', '/faults', {
      body: { path: '/v1/me', status: 429, retryAfter: 2, times: 'always' },
    });
    expect(added.status).toBe(201);
    expect(added.json.faults).toEqual([{ path: '/v1/me', status: 429, retryAfter: 2, times: -1 }]);
    expect((await me()).status).toBe(429);
    const listed = await call(emu.adminUrl, 'GET', '/faults');
    expect(listed.json.faults).toHaveLength(1);
    expect((await fetch(`${emu.adminUrl}/faults`, { method: 'DELETE' })).status).toBe(204);
    expect((await me()).status).toBe(200);
    expect(emu.journal.length).toBe(before + 2);
  });

  it('answers 400 for a bad rule and 404 for an unknown admin path', async () => {
    const bad = await call(emu.adminUrl, 'POST', '/faults', { body: { colour: 'red' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toBe("unknown fault rule field 'colour'");
    const unknown = await fetch(`${emu.adminUrl}/nothing`);
    expect(unknown.status).toBe(404);
  });

  it('serves the journal and resets jobs, faults and journal', async () => {
    const job = await call(emu.url, 'POST', '/v1/job', { token: ROLE_TOKEN, body: { image: 'x' } });
    const journal = await call(emu.adminUrl, 'GET', '/journal');
    expect(journal.json.at(-1)).toMatchObject({
      target: 'api',
      method: 'POST',
      path: '/v1/job',
      status: 201,
    });
    emu.addFault({ path: '/v1/nothing', status: 500 });
    expect((await fetch(`${emu.adminUrl}/reset`, { method: 'POST' })).status).toBe(204);
    expect(emu.journal).toHaveLength(0);
    expect(emu.job(job.json.id)).toBeUndefined();
    expect((await call(emu.url, 'GET', '/v1/nothing', { token: ROLE_TOKEN })).status).toBe(404);
  });
});
