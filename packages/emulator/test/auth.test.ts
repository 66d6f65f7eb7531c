// Auth failures (missing, wrong, expired via the injected clock, revoked, forbidden) and the promise that
// the journal never holds a token in any form.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmulatorHandle, startEmulator } from '../src/index.js';
import { call, READONLY_TOKEN, ROLE_TOKEN } from './helpers.js';

let emu: EmulatorHandle;
let clock = Date.parse('2030-01-01T00:00:00Z');
const seen: string[] = [ROLE_TOKEN, READONLY_TOKEN, 'demo-personal-token'];

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 2, now: () => clock, jobTokenTtl: 60 });
});

afterAll(async () => {
  await emu.close();
});

const unauthorized = (message: string) => ({ error: { code: 401, status: 'Unauthorized', message } });

describe('401', () => {
  it('answers 401 without a token, with a malformed header and with a wrong token', async () => {
    const none = await call(emu.url, 'GET', '/v1/me');
    expect(none.status).toBe(401);
    expect(none.json).toEqual(unauthorized('missing bearer token'));
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="toolkit-emulator"');

    const basic = await fetch(`${emu.url}/v1/me`, { headers: { authorization: 'Basic Zm9vOmJhcg==' } });
    expect(basic.status).toBe(401);

    const wrong = await call(emu.url, 'GET', '/v1/job', { token: 'demo-access:not-the-secret' });
    expect(wrong.json).toEqual(unauthorized('invalid token'));
    seen.push('demo-access:not-the-secret');
  });

  it('expires a personal token after its lifetime on the injected clock, never a role key', async () => {
    emu.addToken({ token: 'short-lived-personal', kind: 'personal', expiresInSeconds: 120 });
    seen.push('short-lived-personal');
    expect((await call(emu.url, 'GET', '/v1/me', { token: 'short-lived-personal' })).status).toBe(200);
    clock += 119_000;
    expect((await call(emu.url, 'GET', '/v1/me', { token: 'short-lived-personal' })).status).toBe(200);
    clock += 2_000;
    const expired = await call(emu.url, 'GET', '/v1/me', { token: 'short-lived-personal' });
    expect(expired.json).toEqual(unauthorized('token expired'));
    clock += 10 * 24 * 3600_000;
    expect((await call(emu.url, 'GET', '/v1/me', { token: ROLE_TOKEN })).status).toBe(200);
  });

  it('expires an in-job token after jobTokenTtl', async () => {
    const token = await (await fetch(`${emu.internalUrl}/v1/token`)).text();
    seen.push(token);
    expect((await call(emu.url, 'GET', '/v1/me', { token })).status).toBe(200);
    clock += 61_000;
    expect((await call(emu.url, 'GET', '/v1/me', { token })).json).toEqual(unauthorized('token expired'));
  });

  it('answers 401 "token revoked" for a configured role key revoked through the API', async () => {
    emu.addToken({ token: 'revoke-me:right-now', kind: 'role', identity: { fullName: 'demo.ci.doomed' } });
    seen.push('revoke-me:right-now');
    const revoke = await call(emu.url, 'DELETE', '/v1/role/demo.ci.doomed/key/revoke-me', {
      token: ROLE_TOKEN,
    });
    expect(revoke.status).toBe(204);
    expect((await call(emu.url, 'GET', '/v1/me', { token: 'revoke-me:right-now' })).json).toEqual(
      unauthorized('token revoked'),
    );
  });
});

describe('403', () => {
  it('names the missing policy when a read-only key submits or cancels', async () => {
    const submit = await call(emu.url, 'POST', '/v1/job', { token: READONLY_TOKEN, body: { image: 'x' } });
    expect(submit.status).toBe(403);
    expect(submit.json.error.status).toBe('Forbidden');
    expect(submit.json.error.message).toMatch(/^missing policy job:new@/);

    const job = await call(emu.url, 'POST', '/v1/job', { token: ROLE_TOKEN, body: { image: 'x' } });
    const cancel = await call(emu.url, 'DELETE', `/v1/job/${job.json.id}`, { token: READONLY_TOKEN });
    expect(cancel.json.error.message).toBe(`missing policy job:set@${job.json.urn}`);
    expect((await call(emu.url, 'GET', `/v1/job/${job.json.id}`, { token: READONLY_TOKEN })).status).toBe(
      200,
    );
  });

  it('refuses job reads and lists to a token without job:get', async () => {
    emu.addToken({
      token: 'submit-only',
      kind: 'personal',
      permissions: ['job:new@*'],
      expiresInSeconds: 1e9,
    });
    seen.push('submit-only');
    const job = await call(emu.url, 'POST', '/v1/job', { token: 'submit-only', body: { image: 'x' } });
    expect(job.status).toBe(201);
    const get = await call(emu.url, 'GET', `/v1/job/${job.json.id}`, { token: 'submit-only' });
    expect(get.json.error.message).toBe(`missing policy job:get@${job.json.urn}`);
    const logs = await call(emu.url, 'GET', `/v1/job/${job.json.id}/logs`, { token: 'submit-only' });
    expect(logs.status).toBe(403);
    const list = await call(emu.url, 'GET', '/v1/me/job', { token: 'submit-only' });
    expect(list.json.error.message).toBe('missing policy job:get@*');
  });

  it('scopes policies by urn: a key limited to one account cannot submit in another', async () => {
    const me = (await call(emu.url, 'GET', '/v1/me', { token: ROLE_TOKEN })).json;
    const accountUrn = `${me.organization}:account:${me.account}`;
    emu.addToken({
      token: 'scoped-token',
      kind: 'personal',
      permissions: [`job:*@${accountUrn}*`],
      expiresInSeconds: 1e9,
    });
    seen.push('scoped-token');
    expect(
      (
        await call(emu.url, 'POST', '/v1/account/demo.ci/job', {
          token: 'scoped-token',
          body: { image: 'x' },
        })
      ).status,
    ).toBe(201);
    const elsewhere = await call(emu.url, 'POST', '/v1/job', { token: 'scoped-token', body: { image: 'x' } });
    expect(elsewhere.status).toBe(403);
  });
});

describe('journal', () => {
  it('records target, method, path, status and auth outcome of every call', async () => {
    const entries = emu.journal.filter((e) => e.target === 'api');
    expect(entries.some((e) => e.auth === 'none' && e.status === 401 && e.path === '/v1/me')).toBe(true);
    expect(entries.some((e) => e.auth === 'invalid' && e.status === 401)).toBe(true);
    expect(entries.some((e) => e.auth === 'expired' && e.status === 401)).toBe(true);
    expect(entries.some((e) => e.auth === 'revoked' && e.status === 401)).toBe(true);
    expect(entries.some((e) => e.auth === 'forbidden' && e.status === 403)).toBe(true);
    expect(entries.some((e) => e.auth === 'valid' && e.status === 201 && e.method === 'POST')).toBe(true);
    expect(
      emu.journal.some((e) => e.target === 'internal' && e.path === '/v1/token' && e.status === 200),
    ).toBe(true);
    for (const entry of emu.journal) {
      expect(Object.keys(entry).sort()).toEqual(['auth', 'method', 'path', 'status', 'target', 'time']);
    }
  });

  it('never holds a token, a part of a role key, or an encoded form of one', async () => {
    // A client that puts a token in the path or the query must not leak it into the journal either.
    await call(emu.url, 'GET', `/v1/job/${encodeURIComponent(ROLE_TOKEN)}?token=${ROLE_TOKEN}`, {
      token: ROLE_TOKEN,
    });
    await call(emu.url, 'GET', '/v1/job/demo-secret', { token: ROLE_TOKEN });
    const text = JSON.stringify(emu.journal);
    expect(text).toContain('[redacted]');
    const forms = seen.flatMap((token) => [
      token,
      ...token.split(':'),
      encodeURIComponent(token),
      Buffer.from(token).toString('base64'),
      Buffer.from(`console:${token}`).toString('base64'),
    ]);
    for (const form of forms) expect(text).not.toContain(form);
    const admin = await (await fetch(`${emu.adminUrl}/journal`)).text();
    for (const form of forms) expect(admin).not.toContain(form);
  });
});
