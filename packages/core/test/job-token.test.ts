import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import { Agent } from 'undici';
import { type RetryInfo, type ToolkitApiError, ToolkitClient } from '../src/client.js';
import type { ToolkitCiError } from '../src/errors.js';
import { fetchJobToken, internalTokenUrl } from '../src/job-token.js';
import type { RetryDeps } from '../src/retry.js';

const JOB_TOKEN = 'eyJhbGciOi.job+token/with=chars';

const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const agent = new Agent();
cleanups.push(() => agent.close());

interface Recorded {
  url: string;
  headers: http.IncomingHttpHeaders;
}

async function startServer(handler: (req: Recorded, res: http.ServerResponse, n: number) => void) {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    const n = requests.length;
    req.resume();
    req.on('end', () => handler(requests[n - 1], res, n));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, tokenUrl: `${origin}/v1/token`, requests };
}

function text(res: http.ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(body);
}

function fakeDeps() {
  const sleeps: number[] = [];
  let now = 0;
  const deps: RetryDeps = {
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    now: () => now,
    random: () => 0.5,
  };
  return { deps, sleeps };
}

async function failure(promise: Promise<unknown>): Promise<ToolkitApiError> {
  try {
    await promise;
  } catch (error) {
    return error as ToolkitApiError;
  }
  throw new Error('expected a failure');
}

function shown(error: unknown): string {
  const e = error as ToolkitApiError;
  return [e.message, e.hint, e.serverMessage, e.stack, inspect(e, { depth: 6 })].join('\n');
}

describe('internalTokenUrl', () => {
  it('prefixes the API host with "internal." and keeps the port', () => {
    expect(internalTokenUrl('https://console.elementai.com')).toBe(
      'https://internal.console.elementai.com/v1/token',
    );
    expect(internalTokenUrl('https://console.elementai.com/')).toBe(
      'https://internal.console.elementai.com/v1/token',
    );
    expect(internalTokenUrl('https://console.example.com:8443/some/prefix')).toBe(
      'https://internal.console.example.com:8443/v1/token',
    );
  });

  it('asks for an explicit URL when the API host is loopback or an IP address', () => {
    for (const apiUrl of [
      'http://127.0.0.1:9000',
      'http://localhost:3000',
      'http://[::1]:80',
      'https://10.1.2.3',
    ]) {
      let error: ToolkitCiError | undefined;
      try {
        internalTokenUrl(apiUrl);
      } catch (e) {
        error = e as ToolkitCiError;
      }
      expect(error?.kind).toBe('usage');
      expect(error?.message).toContain('cannot derive the in-job token URL');
      expect(error?.hint).toContain('explicitly');
    }
  });

  it('refuses a plain-http API URL on a remote host', () => {
    expect(() => internalTokenUrl('http://console.example.com')).toThrow('plain http');
  });
});

describe('fetchJobToken', () => {
  it('GETs the token without auth and answers the plain-text body trimmed', async () => {
    const server = await startServer((_req, res) => text(res, 200, `${JOB_TOKEN}\n`));
    await expect(fetchJobToken(server.tokenUrl, { dispatcher: agent })).resolves.toBe(JOB_TOKEN);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0].url).toBe('/v1/token');
    expect(server.requests[0].headers.authorization).toBeUndefined();
    expect(server.requests[0].headers.accept).toContain('text/plain');
  });

  it('works with its own default dispatcher (closed afterwards)', async () => {
    const server = await startServer((_req, res) => text(res, 200, JOB_TOKEN));
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy };
    delete process.env.HTTP_PROXY;
    delete process.env.http_proxy;
    try {
      await expect(fetchJobToken(server.tokenUrl)).resolves.toBe(JOB_TOKEN);
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
    }
  });

  it('never fetches a plain-http (loopback) token URL through HTTP_PROXY: the proxy would see the token', async () => {
    const server = await startServer((_req, res) => text(res, 200, JOB_TOKEN));
    const proxy = await startServer((_req, res) => text(res, 502, 'proxy'));
    const names = ['HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
    const saved = Object.fromEntries(names.map((k) => [k, process.env[k]]));
    for (const k of names) delete process.env[k];
    process.env.HTTP_PROXY = proxy.origin;
    process.env.http_proxy = proxy.origin;
    try {
      await expect(fetchJobToken(server.tokenUrl, { retry: { maxAttempts: 1 } })).resolves.toBe(JOB_TOKEN);
    } finally {
      for (const k of names) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
    expect(proxy.requests).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('retries 503 and a reset connection like the client, with the injected sleep', async () => {
    const server = await startServer((_req, res, n) => {
      if (n === 1) text(res, 503, 'warming up');
      else if (n === 2) res.socket?.destroy();
      else text(res, 200, JOB_TOKEN);
    });
    const { deps, sleeps } = fakeDeps();
    const retries: RetryInfo[] = [];
    const token = await fetchJobToken(server.tokenUrl, {
      dispatcher: agent,
      deps,
      onRetry: (i) => retries.push(i),
    });
    expect(token).toBe(JOB_TOKEN);
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toEqual([250, 500]);
    expect(retries[0].call).toBe(`GET ${server.origin}/v1/token`);
  });

  it('times out and reports it after the configured attempts', async () => {
    const server = await startServer(() => {
      // never answers
    });
    const error = await failure(
      fetchJobToken(server.tokenUrl, {
        dispatcher: agent,
        timeoutMs: 150,
        retry: { maxAttempts: 2 },
        deps: fakeDeps().deps,
      }),
    );
    expect(server.requests).toHaveLength(2);
    expect(error.kind).toBe('unreachable');
    expect(error.message).toContain('timed out after 150 ms');
  });

  it('explains a 404 as "no in-job token here" without retrying', async () => {
    const server = await startServer((_req, res) => text(res, 404, 'no such route'));
    const error = await failure(fetchJobToken(server.tokenUrl, { dispatcher: agent, deps: fakeDeps().deps }));
    expect(server.requests).toHaveLength(1);
    expect(error.status).toBe(404);
    expect(error.message).toContain(`GET ${server.origin}/v1/token failed with HTTP 404`);
    expect(error.message).toContain('no in-job token is available here');
    expect(error.message).toContain('no such route');
    expect(error.hint).toContain('--role');
  });

  it('never shows an error body that looks like a token', async () => {
    const server = await startServer((_req, res) => text(res, 500, `${JOB_TOKEN}\n`));
    const error = await failure(
      fetchJobToken(server.tokenUrl, { dispatcher: agent, retry: { maxAttempts: 2 }, deps: fakeDeps().deps }),
    );
    expect(error.kind).toBe('unreachable');
    expect(error.message).toContain('HTTP 500');
    expect(error.message).toContain('withheld');
    expect(error.serverMessage).toBeUndefined();
    expect(shown(error)).not.toContain(JOB_TOKEN);
    expect(shown(error)).not.toContain(JOB_TOKEN.slice(0, 10));
  });

  it('refuses an empty answer and one that is not a bearer token, without quoting it', async () => {
    const server = await startServer((_req, res, n) =>
      text(res, 200, n === 1 ? ' \n' : `${JOB_TOKEN} trailing words`),
    );
    const empty = await failure(fetchJobToken(server.tokenUrl, { dispatcher: agent }));
    expect(empty.kind).toBe('api');
    expect(empty.message).toContain('empty body');
    const odd = await failure(fetchJobToken(server.tokenUrl, { dispatcher: agent }));
    expect(odd.kind).toBe('api');
    expect(odd.message).toContain('not a bearer token');
    expect(shown(odd)).not.toContain(JOB_TOKEN);
  });

  it('refuses plain http to a remote host before any request', async () => {
    const error = await failure(
      fetchJobToken('http://internal.console.example.com/v1/token', { dispatcher: agent }),
    );
    expect(error.kind).toBe('usage');
    expect(error.message).toContain('the token URL');
  });

  it('serves as the refreshToken of a client: a 401 fetches a new job token once', async () => {
    let issued = 0;
    const tokens = await startServer((_req, res) => text(res, 200, `job-token-${++issued}-abcdef`));
    const api = await startServer((req, res) => {
      const ok = req.headers.authorization === 'Bearer job-token-2-abcdef';
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { id: 'role-1' } : { error: { message: 'expired' } }));
    });
    const refresh = () => fetchJobToken(tokens.tokenUrl, { dispatcher: agent });
    const client = new ToolkitClient({
      apiUrl: api.origin,
      token: await refresh(),
      refreshToken: refresh,
      dispatcher: agent,
    });
    await expect(client.me()).resolves.toEqual({ id: 'role-1' });
    expect(tokens.requests).toHaveLength(2);
    expect(api.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer job-token-1-abcdef',
      'Bearer job-token-2-abcdef',
    ]);
  });
});
