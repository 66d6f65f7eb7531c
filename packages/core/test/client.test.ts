import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inspect, promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import { transformFileSync } from '@swc/core';
import { Agent } from 'undici';
import {
  type ApiResponse,
  assertSafeApiUrl,
  type ClientOptions,
  isLoopbackHost,
  type RetryInfo,
  ToolkitApiError,
  ToolkitClient,
} from '../src/client.js';
import { ToolkitCiError } from '../src/errors.js';
import type { RetryDeps } from '../src/retry.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const srcDir = path.resolve(here, '../src');

// Special characters on purpose: each encoded form (base64, URL, JSON) differs from the raw token.
const ACCESS = 'AK1a+b/c=d%2F';
const SECRET = 'S3cr"e\\t&x?y#z~!';
const TOKEN = `${ACCESS}:${SECRET}`;

function leakForms(token: string): string[] {
  const forms = [
    token,
    Buffer.from(token).toString('base64'),
    Buffer.from(`console:${token}`).toString('base64'),
    encodeURIComponent(token),
    JSON.stringify(token).slice(1, -1),
  ];
  if (token.includes(':')) forms.push(...token.split(':'));
  return forms;
}

/** Everything an error could show a user: message, hint, server message, stack and the inspected object. */
function everythingShown(error: unknown): string {
  const e = error as ToolkitApiError;
  return [e.message, e.hint, e.serverMessage, e.stack, String(e), inspect(e, { depth: 6 })].join('\n');
}

function expectNoToken(text: string, token = TOKEN): void {
  for (const form of leakForms(token)) expect(text).not.toContain(form);
}

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface TestServer {
  url: string;
  origin: string;
  port: number;
  requests: Recorded[];
}

type Handler = (req: Recorded, res: http.ServerResponse, n: number) => void;

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const agent = new Agent();
cleanups.push(() => agent.close());

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

/** A real HTTP server on 127.0.0.1 that records every request (counted when it arrives) and lets `handler` answer. */
async function startServer(handler: Handler): Promise<TestServer> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    const recorded: Recorded = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: '',
    };
    requests.push(recorded);
    const n = requests.length;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      recorded.body = Buffer.concat(chunks).toString('utf8');
      handler(recorded, res, n);
    });
  });
  const port = await listen(server);
  const origin = `http://127.0.0.1:${port}`;
  return { url: origin, origin, port, requests };
}

function json(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A fake clock that only moves when the client sleeps; every requested sleep is recorded. */
function fakeDeps(start = Date.UTC(2030, 0, 1)) {
  const state = { now: start, sleeps: [] as number[] };
  const deps: RetryDeps = {
    sleep: async (ms) => {
      state.sleeps.push(ms);
      state.now += ms;
    },
    now: () => state.now,
    random: () => 0.5,
  };
  return { deps, state };
}

function makeClient(url: string, extra: Partial<ClientOptions> = {}) {
  const fake = fakeDeps();
  const retries: RetryInfo[] = [];
  const client = new ToolkitClient({
    apiUrl: url,
    token: TOKEN,
    dispatcher: agent,
    deps: fake.deps,
    onRetry: (info) => retries.push(info),
    ...extra,
  });
  return { client, sleeps: fake.state.sleeps, clock: fake.state, retries };
}

async function failure(promise: Promise<unknown>): Promise<ToolkitApiError> {
  try {
    await promise;
  } catch (error) {
    return error as ToolkitApiError;
  }
  throw new Error('expected the call to fail');
}

const IDENTITY = {
  id: 'u-1',
  name: 'ci',
  fullName: 'acme.ml.ci',
  account: 'acme.ml',
  urn: 'urn:role:acme.ml.ci',
};

describe('ToolkitClient: successful calls', () => {
  it('GET /v1/me sends the bearer token, Accept and User-Agent, and answers the parsed identity', async () => {
    const server = await startServer((_req, res) => json(res, 200, IDENTITY));
    const { client } = makeClient(server.url);
    await expect(client.me()).resolves.toEqual(IDENTITY);
    expect(server.requests).toHaveLength(1);
    const [req] = server.requests;
    expect(req.method).toBe('GET');
    expect(req.url).toBe('/v1/me');
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.headers.accept).toBe('application/json');
    expect(req.headers['user-agent']).toBe('toolkit-ci');
    expect(req.headers['content-type']).toBeUndefined();
  });

  it('POST sends a JSON body with its content-type and answers status, headers and body', async () => {
    const server = await startServer((req, res) =>
      json(res, 201, { id: 'job-1', got: JSON.parse(req.body) }),
    );
    const { client } = makeClient(server.url, { userAgent: 'toolkit-ci/test' });
    const spec = { image: 'registry/acme.ml/trainer:1', command: ['python', '-c', 'print("hi")'] };
    const response: ApiResponse<{ id: string; got: unknown }> = await client.request('POST', '/v1/job', spec);
    expect(response.status).toBe(201);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.body).toEqual({ id: 'job-1', got: spec });
    expect(server.requests[0].headers['content-type']).toBe('application/json');
    expect(server.requests[0].headers['user-agent']).toBe('toolkit-ci/test');
  });

  it('answers text for a text content-type or accept: text, and undefined for 204', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/v1/job/j1/logs') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('line 1\nline 2\n');
      } else if (req.url === '/v1/job/j2/logs') {
        res.writeHead(204).end();
      } else {
        json(res, 200, { looks: 'like json' });
      }
    });
    const { client } = makeClient(server.url);
    const log = await client.request<string>('GET', '/v1/job/j1/logs', undefined, { accept: 'text' });
    expect(log.body).toBe('line 1\nline 2\n');
    expect(server.requests[0].headers.accept).toContain('text/plain');
    expect(
      (await client.request('GET', '/v1/job/j2/logs', undefined, { accept: 'text' })).body,
    ).toBeUndefined();
    const raw = await client.request('GET', '/v1/other', undefined, { accept: 'text' });
    expect(raw.body).toBe('{"looks":"like json"}');
  });

  it('keeps a path prefix of api-url', async () => {
    const server = await startServer((_req, res) => json(res, 200, IDENTITY));
    const { client } = makeClient(`${server.url}/toolkit/`);
    expect(client.apiUrl).toBe(`${server.url}/toolkit`);
    await client.me();
    expect(server.requests[0].url).toBe('/toolkit/v1/me');
  });

  it('refuses an identity without id and a 2xx with invalid JSON, without quoting the body', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/v1/me') json(res, 200, { name: 'no id' });
      else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"secret": "${SECRET}"`);
      }
    });
    const { client } = makeClient(server.url);
    const noId = await failure(client.me());
    expect(noId).toBeInstanceOf(ToolkitApiError);
    expect(noId.kind).toBe('api');
    expect(noId.message).toContain('GET /v1/me');
    const bad = await failure(client.request('GET', '/v1/role/r/key'));
    expect(bad.kind).toBe('api');
    expect(bad.message).toContain('invalid JSON');
    expectNoToken(everythingShown(bad));
  });
});

describe('ToolkitClient: retries', () => {
  it.each([429, 500, 502, 503, 504])(
    'retries HTTP %i with capped exponential backoff until it succeeds',
    async (status) => {
      const server = await startServer((_req, res, n) =>
        n <= 2 ? json(res, status, { error: { message: 'try later' } }) : json(res, 200, IDENTITY),
      );
      const { client, sleeps, retries } = makeClient(server.url);
      await expect(client.me()).resolves.toEqual(IDENTITY);
      expect(server.requests).toHaveLength(3);
      // random() = 0.5: half of 500 ms, then half of 1000 ms.
      expect(sleeps).toEqual([250, 500]);
      expect(retries.map((r) => [r.call, r.attempt, r.delayMs])).toEqual([
        ['GET /v1/me', 1, 250],
        ['GET /v1/me', 2, 500],
      ]);
      expect(retries[0].reason).toContain(`HTTP ${status}`);
    },
  );

  it.each([
    [503, 'unreachable'],
    [500, 'unreachable'],
    [429, 'api'],
  ])('gives up on HTTP %i after maxAttempts and reports the attempts', async (status, kind) => {
    const server = await startServer((_req, res) => json(res, status, { error: { message: 'overloaded' } }));
    const { client, sleeps } = makeClient(server.url, { retry: { maxAttempts: 3 } });
    const error = await failure(client.me());
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(error.kind).toBe(kind);
    expect(error.status).toBe(status);
    expect(error.message).toContain('GET /v1/me');
    expect(error.message).toContain(`HTTP ${status}`);
    expect(error.message).toContain('3 attempts');
    expect(error.message).toContain('overloaded');
  });

  it('honours Retry-After in seconds', async () => {
    const server = await startServer((_req, res, n) =>
      n === 1 ? json(res, 429, {}, { 'retry-after': '3' }) : json(res, 200, IDENTITY),
    );
    const { client, sleeps } = makeClient(server.url);
    await client.me();
    expect(sleeps).toEqual([3_000]);
  });

  it('honours Retry-After as an HTTP-date, relative to the injected clock', async () => {
    const clock = { now: 0 };
    const server = await startServer((_req, res, n) =>
      n === 1
        ? json(res, 503, {}, { 'retry-after': new Date(clock.now + 7_000).toUTCString() })
        : json(res, 200, IDENTITY),
    );
    const made = makeClient(server.url);
    clock.now = made.clock.now;
    await made.client.me();
    expect(made.sleeps).toEqual([7_000]);
  });

  it('caps Retry-After at maxRetryAfterMs (30 s by default)', async () => {
    const server = await startServer((_req, res, n) =>
      n % 2 === 1 ? json(res, 429, {}, { 'retry-after': '3600' }) : json(res, 200, IDENTITY),
    );
    const byDefault = makeClient(server.url);
    await byDefault.client.me();
    expect(byDefault.sleeps).toEqual([30_000]);
    const configured = makeClient(server.url, { retry: { maxRetryAfterMs: 2_000 } });
    await configured.client.me();
    expect(configured.sleeps).toEqual([2_000]);
  });

  it.each([
    [400, 'api'],
    [401, 'auth'],
    [403, 'auth'],
    [404, 'api'],
    [409, 'api'],
  ])('never retries HTTP %i (exactly one attempt, kind %s)', async (status, kind) => {
    const server = await startServer((_req, res) => json(res, status, { error: { message: 'nope' } }));
    const { client, sleeps } = makeClient(server.url);
    const error = await failure(client.me());
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(error.kind).toBe(kind);
    expect(error.status).toBe(status);
    expect(error.serverMessage).toBe('nope');
  });

  it('explains 401 and 403 with a hint', async () => {
    const server = await startServer((req, res) =>
      json(res, req.url === '/v1/me' ? 401 : 403, { error: { message: 'denied' } }),
    );
    const { client } = makeClient(server.url);
    const unauthorized = await failure(client.me());
    expect(unauthorized.message).toContain('the token is invalid, expired or revoked');
    expect(unauthorized.hint).toMatch(/expires within the hour.*role key/);
    const forbidden = await failure(client.request('POST', '/v1/job', { image: 'x' }));
    expect(forbidden.message).toContain('POST /v1/job');
    expect(forbidden.message).toContain("the token's role lacks a policy for this call");
    expect(forbidden.hint).toContain('job:new');
  });

  it('stops retrying when the next sleep would pass maxElapsedMs (fake clock)', async () => {
    const server = await startServer((_req, res) => json(res, 503, {}));
    const { client, sleeps } = makeClient(server.url, { retry: { maxAttempts: 10, maxElapsedMs: 1_200 } });
    const error = await failure(client.me());
    // 250 (t=250), 500 (t=750); the next 1000 would end at 1750 > 1200.
    expect(sleeps).toEqual([250, 500]);
    expect(server.requests).toHaveLength(3);
    expect(error.message).toContain('3 attempts');
  });

  it('does not retry a POST on 500 (it may have been processed) but does on 503', async () => {
    const fiveHundred = await startServer((_req, res) => json(res, 500, { error: { message: 'boom' } }));
    const post500 = await failure(
      makeClient(fiveHundred.url).client.request('POST', '/v1/job', { image: 'x' }),
    );
    expect(fiveHundred.requests).toHaveLength(1);
    expect(post500.kind).toBe('unreachable');
    expect(post500.message).toContain('not retried');

    const unavailable = await startServer((_req, res, n) =>
      n === 1 ? json(res, 503, {}) : json(res, 201, { id: 'job-1' }),
    );
    const created = await makeClient(unavailable.url).client.request('POST', '/v1/job', { image: 'x' });
    expect(created.status).toBe(201);
    expect(unavailable.requests).toHaveLength(2);
  });

  it('retries a 500 on PUT/DELETE, and on POST when marked idempotent', async () => {
    const server = await startServer((_req, res, n) =>
      n % 2 === 1 ? json(res, 500, {}) : json(res, 200, {}),
    );
    const { client } = makeClient(server.url);
    await client.request('PUT', '/v1/job/j1/retry');
    await client.request('DELETE', '/v1/job/j1');
    await client.request('POST', '/v1/search', { q: 1 }, { idempotent: true });
    expect(server.requests.map((r) => r.method)).toEqual(['PUT', 'PUT', 'DELETE', 'DELETE', 'POST', 'POST']);
  });

  it('times out an attempt that never answers, retries it, and says "timed out after N ms"', async () => {
    const server = await startServer(() => {
      // never answers
    });
    const { client, retries } = makeClient(server.url, { timeoutMs: 200, retry: { maxAttempts: 2 } });
    const error = await failure(client.me());
    expect(server.requests).toHaveLength(2);
    expect(retries[0].reason).toBe('timed out after 200 ms');
    expect(error.kind).toBe('unreachable');
    expect(error.message).toContain('GET /v1/me');
    expect(error.message).toContain('timed out after 200 ms');
    expect(error.message).toContain('2 attempts');
  });

  it('retries a reset connection, then reports it as unreachable', async () => {
    const server = await startServer((_req, res) => res.socket?.destroy());
    const { client, sleeps } = makeClient(server.url, { retry: { maxAttempts: 3 } });
    const error = await failure(client.me());
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(error.kind).toBe('unreachable');
    expect(error.message).toContain('3 attempts');
    expect(error.hint).toContain('HTTPS_PROXY');
  });

  it('does not resend a POST whose connection was reset (it may have been processed)', async () => {
    const server = await startServer((_req, res) => res.socket?.destroy());
    const error = await failure(makeClient(server.url).client.request('POST', '/v1/job', { image: 'x' }));
    expect(server.requests).toHaveLength(1);
    expect(error.kind).toBe('unreachable');
    expect(error.message).toContain('not retried');
  });

  it('retries a truncated body', async () => {
    const server = await startServer((_req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.write('{"id": "u-');
        setTimeout(() => res.socket?.destroy(), 10);
      } else json(res, 200, IDENTITY);
    });
    const { client } = makeClient(server.url);
    await expect(client.me()).resolves.toEqual(IDENTITY);
    expect(server.requests).toHaveLength(2);
  });

  it('retries a refused connection even for a POST (nothing was sent), then reports it', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { client, retries } = makeClient(`http://127.0.0.1:${port}`, { retry: { maxAttempts: 3 } });
    const error = await failure(client.request('POST', '/v1/job', { image: 'x' }));
    expect(retries.map((r) => r.reason)).toEqual(['connection refused', 'connection refused']);
    expect(error.kind).toBe('unreachable');
    expect(error.message).toContain('connection refused');
    expect(error.message).toContain('3 attempts');
  });

  it('stops at once when the caller aborts, with the abort reason', async () => {
    const server = await startServer(() => {
      // never answers
    });
    const { client } = makeClient(server.url);
    const controller = new AbortController();
    const pending = client.request('GET', '/v1/me', undefined, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('workflow cancelled')), 50);
    await expect(pending).rejects.toThrow('workflow cancelled');
    expect(server.requests).toHaveLength(1);
  });
});

describe('ToolkitClient: where the token may go', () => {
  it('refuses plain http to a non-loopback host before any request', () => {
    let dispatched = 0;
    const counting = new Agent();
    cleanups.push(() => counting.close());
    const original = counting.dispatch.bind(counting);
    counting.dispatch = (...args: Parameters<Agent['dispatch']>) => {
      dispatched++;
      return original(...args);
    };
    for (const apiUrl of [
      'http://console.elementai.com',
      'http://10.0.0.5:8080',
      'http://localhost.evil.example',
    ]) {
      let error: unknown;
      try {
        new ToolkitClient({ apiUrl, token: TOKEN, dispatcher: counting });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ToolkitCiError);
      expect((error as ToolkitCiError).kind).toBe('usage');
      expect((error as ToolkitCiError).message).toContain('plain http');
      expectNoToken(everythingShown(error));
    }
    expect(dispatched).toBe(0);
  });

  it('assertSafeApiUrl accepts https and loopback http, refuses the rest without echoing the value', () => {
    expect(assertSafeApiUrl('https://console.elementai.com').host).toBe('console.elementai.com');
    expect(assertSafeApiUrl('http://127.0.0.1:8080').port).toBe('8080');
    expect(assertSafeApiUrl('http://[::1]:8080/').hostname).toBe('[::1]');
    expect(assertSafeApiUrl('http://localhost:3000').hostname).toBe('localhost');
    const refused = (value: string, what?: string) => {
      try {
        assertSafeApiUrl(value, what);
      } catch (error) {
        expect((error as ToolkitCiError).kind).toBe('usage');
        return (error as Error).message;
      }
      throw new Error(`accepted ${value}`);
    };
    expect(refused('console.elementai.com')).toContain('api-url is not a valid URL');
    expect(refused('ftp://console.elementai.com', 'registry-url')).toContain('registry-url must use https');
    expect(refused(`https://console:${encodeURIComponent(TOKEN)}@console.elementai.com`)).toContain(
      'user name',
    );
    expectNoToken(refused(`https://console:${encodeURIComponent(TOKEN)}@console.elementai.com`));
    expect(refused('http://127.0.0.1.nip.io')).toContain('plain http');
  });

  it('isLoopbackHost knows localhost, 127.0.0.0/8 and ::1 only', () => {
    for (const host of [
      'localhost',
      'LOCALHOST',
      'api.localhost',
      '127.0.0.1',
      '127.255.0.9',
      '::1',
      '[::1]',
    ]) {
      expect([host, isLoopbackHost(host)]).toEqual([host, true]);
    }
    for (const host of [
      'localhost.evil.example',
      '128.0.0.1',
      '10.0.0.1',
      '::2',
      'example.com',
      '127.0.0.1.nip.io',
    ]) {
      expect([host, isLoopbackHost(host)]).toEqual([host, false]);
    }
  });

  it('does not follow a redirect to another host and names only its origin', async () => {
    const other = await startServer((_req, res) => json(res, 200, IDENTITY));
    const api = await startServer((_req, res) => {
      res.writeHead(301, { location: `${other.url}/v1/me?token=${encodeURIComponent(TOKEN)}` });
      res.end();
    });
    const { client } = makeClient(api.url);
    const error = await failure(client.me());
    expect(error.kind).toBe('api');
    expect(error.status).toBe(301);
    expect(error.message).toContain(`answered with a redirect (HTTP 301) to ${other.origin}`);
    expect(error.message).toContain('redirects are not followed: set api-url to the final address');
    expect(error.message).not.toContain('?token');
    expectNoToken(everythingShown(error));
    expect(api.requests).toHaveLength(1);
    expect(other.requests).toHaveLength(0);
  });

  it('only sends to the configured origin: absolute URLs and odd paths are refused before any request', async () => {
    const server = await startServer((_req, res) => json(res, 200, {}));
    const { client } = makeClient(server.url);
    for (const bad of [
      'v1/me',
      '//evil.example/v1/me',
      'http://evil.example/v1/me',
      '/\\evil.example/x',
      '/v1/me\r\nX: y',
    ]) {
      const error = await failure(client.request('GET', bad));
      expect(error.kind).toBe('usage');
    }
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a token that could inject a header, describing it without its value', () => {
    const token = 'abcdefgh-secret\r\nX-Evil: 1';
    try {
      new ToolkitClient({ apiUrl: 'https://console.elementai.com', token, dispatcher: agent });
      throw new Error('accepted');
    } catch (error) {
      expect((error as ToolkitCiError).kind).toBe('usage');
      expect((error as Error).message).toContain('control');
      expect((error as Error).message).not.toContain('abcdefgh-secret');
    }
  });
});

describe('ToolkitClient: error texts', () => {
  const echo = `bad token for acme: ${leakForms(TOKEN).join(' | ')} | Authorization: Bearer ${TOKEN}`;

  it('names the call, the status and the server message, but never the token in any form (JSON error)', async () => {
    const server = await startServer((_req, res) => json(res, 403, { error: { code: 403, message: echo } }));
    const error = await failure(makeClient(server.url).client.me());
    expect(error.message).toContain('GET /v1/me');
    expect(error.message).toContain('HTTP 403 Forbidden');
    expect(error.message).toContain('bad token for acme');
    expect(error.serverMessage).toContain('bad token for acme');
    expectNoToken(everythingShown(error));
  });

  it('never shows the token from a text body, a {"message"} body or after retries', async () => {
    const server = await startServer((req, res) => {
      if (req.url === '/v1/text') {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(echo);
      } else json(res, 400, { message: echo });
    });
    const { client } = makeClient(server.url, { retry: { maxAttempts: 2 } });
    const text = await failure(client.request('GET', '/v1/text'));
    expect(text.message).toContain('GET /v1/text');
    expect(text.message).toContain('HTTP 502');
    expect(text.message).toContain('bad token for acme');
    expectNoToken(everythingShown(text));
    const plain = await failure(client.request('GET', '/v1/message'));
    expect(plain.serverMessage).toContain('bad token for acme');
    expectNoToken(everythingShown(plain));
  });

  it('passes server messages through redact and cuts them to about 300 characters', async () => {
    const long = `db internal-db-7 failed ${'x'.repeat(2_000)}`;
    const server = await startServer((_req, res) => json(res, 404, { error: { message: long } }));
    const { client } = makeClient(server.url, { redact: (t) => t.replaceAll('internal-db-7', '[hidden]') });
    const error = await failure(client.request('GET', '/v1/job/j9'));
    expect(error.serverMessage).toMatch(/^db \[hidden\] failed x+…$/);
    expect(error.serverMessage!.length).toBeLessThanOrEqual(301);
    expect(error.message).not.toContain('internal-db-7');
  });

  it('says what an HTML error page says, without its markup', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(400, { 'content-type': 'text/html' });
      res.end('<html><body><h1>400 Bad Request</h1><p>header too large</p></body></html>');
    });
    const error = await failure(makeClient(server.url).client.me());
    expect(error.serverMessage).toBe('400 Bad Request header too large');
  });
});

describe('ToolkitClient: refreshToken (job tokens)', () => {
  const FRESH = 'fresh+job/token=value';

  it('on a 401 fetches a fresh token once, retries, and keeps using it', async () => {
    const server = await startServer((req, res) =>
      req.headers.authorization === `Bearer ${FRESH}` ? json(res, 200, IDENTITY) : json(res, 401, {}),
    );
    let refreshes = 0;
    const { client } = makeClient(server.url, {
      refreshToken: async () => {
        refreshes++;
        return FRESH;
      },
    });
    await expect(client.me()).resolves.toEqual(IDENTITY);
    await expect(client.me()).resolves.toEqual(IDENTITY);
    expect(refreshes).toBe(1);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      `Bearer ${TOKEN}`,
      `Bearer ${FRESH}`,
      `Bearer ${FRESH}`,
    ]);
  });

  it('retries only once: a second 401 is reported, naming neither token', async () => {
    const server = await startServer((req, res) =>
      json(res, 401, { error: { message: `rejected ${req.headers.authorization}` } }),
    );
    let refreshes = 0;
    const { client } = makeClient(server.url, {
      refreshToken: async () => {
        refreshes++;
        return FRESH;
      },
    });
    const error = await failure(client.me());
    expect(refreshes).toBe(1);
    expect(server.requests).toHaveLength(2);
    expect(error.kind).toBe('auth');
    expect(error.message).toContain('rejected Bearer ***');
    expectNoToken(everythingShown(error));
    expectNoToken(everythingShown(error), FRESH);
  });

  it('does not refresh on a 403', async () => {
    const server = await startServer((_req, res) => json(res, 403, {}));
    let refreshes = 0;
    const { client } = makeClient(server.url, {
      refreshToken: async () => {
        refreshes++;
        return FRESH;
      },
    });
    expect((await failure(client.me())).status).toBe(403);
    expect(refreshes).toBe(0);
  });
});

/** A forward proxy on loopback: CONNECT tunnels and absolute-URI requests, each one counted. */
async function startProxy(): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const target = new URL(req.url ?? '');
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    const url = new URL(`http://${req.url}`);
    const upstream = net.connect(Number(url.port), url.hostname, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    sockets.add(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const port = await listen(server);
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
  });
  return { url: `http://127.0.0.1:${port}`, seen };
}

const PROXY_VARS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'];

/** Runs `body` with exactly the given proxy variables set, restoring the environment afterwards. */
async function withProxyEnv<T>(vars: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(PROXY_VARS.map((k) => [k, process.env[k]]));
  for (const k of PROXY_VARS) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return await body();
  } finally {
    for (const k of PROXY_VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

describe('ToolkitClient: HTTP_PROXY / NO_PROXY (default dispatcher)', () => {
  it('sends an https call through the proxy named by HTTPS_PROXY (a CONNECT tunnel)', async () => {
    // A proxy that refuses every tunnel: what matters is that the call went through it, as a CONNECT.
    const seen: string[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
      seen.push(`CONNECT ${req.url}`);
      socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
    });
    const port = await listen(proxy);
    const error = await withProxyEnv({ HTTPS_PROXY: `http://127.0.0.1:${port}` }, async () => {
      const client = new ToolkitClient({
        apiUrl: 'https://console.example.com',
        token: TOKEN,
        retry: { maxAttempts: 1 },
      });
      try {
        return await failure(client.me());
      } finally {
        await client.close();
      }
    });
    expect(seen).toEqual(['CONNECT console.example.com:443']);
    expect(error.kind).toBe('unreachable');
    expectNoToken(everythingShown(error));
  });

  it('never sends a plain-http (loopback) call through HTTP_PROXY: the proxy would get the token in clear', async () => {
    const api = await startServer((_req, res) => json(res, 200, IDENTITY));
    const proxy = await startProxy();
    const identity = await withProxyEnv({ HTTP_PROXY: proxy.url, http_proxy: proxy.url }, async () => {
      const client = new ToolkitClient({ apiUrl: api.url, token: TOKEN, retry: { maxAttempts: 1 } });
      try {
        return await client.me();
      } finally {
        await client.close();
      }
    });
    expect(identity).toEqual(IDENTITY);
    expect(proxy.seen).toEqual([]);
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('bypasses the proxy for a host listed in NO_PROXY', async () => {
    const api = await startServer((_req, res) => json(res, 200, IDENTITY));
    const proxy = await startProxy();
    const identity = await withProxyEnv(
      { HTTP_PROXY: proxy.url, NO_PROXY: 'example.com,127.0.0.1' },
      async () => {
        const client = new ToolkitClient({ apiUrl: api.url, token: TOKEN, retry: { maxAttempts: 1 } });
        try {
          return await client.me();
        } finally {
          await client.close();
        }
      },
    );
    expect(identity).toEqual(IDENTITY);
    expect(proxy.seen).toHaveLength(0);
    expect(api.requests).toHaveLength(1);
  });
});

describe('ToolkitClient: NODE_EXTRA_CA_CERTS', () => {
  /** Compiles the client to plain ESM in `dir` so a child process can run it with its own environment. */
  async function compileClient(dir: string): Promise<void> {
    const undiciEntry = pathToFileURL(path.resolve(here, '../../../node_modules/undici/index.js')).href;
    for (const name of ['client', 'retry', 'errors', 'secrets', 'token']) {
      const { code } = transformFileSync(path.join(srcDir, `${name}.ts`), {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      });
      await writeFile(
        path.join(dir, `${name}.js`),
        code.replaceAll(`from 'undici'`, `from '${undiciEntry}'`),
      );
    }
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    await writeFile(
      path.join(dir, 'probe.js'),
      [
        "import { ToolkitClient } from './client.js';",
        'const client = new ToolkitClient({ apiUrl: process.env.PROBE_API_URL, token: process.env.PROBE_TOKEN,',
        '  retry: { maxAttempts: 1 }, timeoutMs: 10000 });',
        'try { const me = await client.me(); console.log(JSON.stringify({ ok: true, id: me.id })); }',
        'catch (e) { console.log(JSON.stringify({ ok: false, kind: e.kind, message: e.message, hint: e.hint })); }',
        'finally { await client.close(); }',
      ].join('\n'),
    );
  }

  it('trusts a private CA given in NODE_EXTRA_CA_CERTS and refuses it otherwise', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'toolkit-ci-ca-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    const server = https.createServer(
      { key: await readFile(path.join(dir, 'key.pem')), cert: await readFile(path.join(dir, 'cert.pem')) },
      (_req, res) => json(res, 200, IDENTITY),
    );
    const port = await listen(server);
    await compileClient(dir);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PROBE_API_URL: `https://127.0.0.1:${port}`,
      PROBE_TOKEN: TOKEN,
    };
    for (const k of [...PROXY_VARS, 'NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS']) delete env[k];
    const probe = async (extra: NodeJS.ProcessEnv) => {
      const { stdout, stderr } = await run(process.execPath, [path.join(dir, 'probe.js')], {
        env: { ...env, ...extra },
      });
      expectNoToken(stdout + stderr);
      return JSON.parse(stdout.trim()) as {
        ok: boolean;
        id?: string;
        kind?: string;
        message?: string;
        hint?: string;
      };
    };

    const without = await probe({});
    expect(without.ok).toBe(false);
    expect(without.kind).toBe('unreachable');
    expect(without.message).toContain('TLS certificate not trusted');
    expect(without.hint).toContain('NODE_EXTRA_CA_CERTS');

    const withCa = await probe({ NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem') });
    expect(withCa).toEqual({ ok: true, id: IDENTITY.id });
  });
});
