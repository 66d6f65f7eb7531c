import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type DockerOptions, dockerLogin, dockerLogout } from '../src/docker.js';
import { ToolkitCiError } from '../src/errors.js';
import { formsOf, Secrets } from '../src/secrets.js';
import { parseToken } from '../src/token.js';

const TOKEN = parseToken('AKQ7PLM2VZ:Zr9TnWc4xY8s').token;
const WRONG = parseToken('AKQ7PLM2VZ:WrongWc4xY8s').token;
const HOST = '127.0.0.1:5000';

let root: string;
let fakeDir: string;
let emptyDir: string;
let counter = 0;

/** A fresh directory under the suite's temp root (a DOCKER_CONFIG, a record file's home...). */
async function freshDir(name: string): Promise<string> {
  const dir = join(root, `${name}-${++counter}`);
  await mkdir(dir);
  return dir;
}

// A stand-in for the docker CLI. It records its argv, environment names and the SHA-256 of its stdin
// (never stdin itself, so no test file ever holds the token) and prints what FAKE_MODE asks for.
const FAKE_DOCKER = `#!${process.execPath}
const { createHash } = require('node:crypto');
const { writeFileSync } = require('node:fs');
const chunks = [];
const mode = process.env.FAKE_MODE;
const host = process.argv[process.argv.length - 1];
if (mode === 'hang') setInterval(() => {}, 1000);
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const stdin = Buffer.concat(chunks).toString('utf8');
  if (process.env.FAKE_RECORD) {
    writeFileSync(process.env.FAKE_RECORD, JSON.stringify({
      argv: process.argv.slice(2),
      stdinSha256: createHash('sha256').update(stdin).digest('hex'),
      envNames: Object.keys(process.env),
      envNamesHoldingStdin: Object.keys(process.env).filter((n) => stdin && process.env[n].includes(stdin)),
      dockerConfig: process.env.DOCKER_CONFIG,
    }));
  }
  const fail = (text, code = 1) => { process.stderr.write(text + '\\n'); process.exit(code); };
  switch (mode) {
    case 'hang': return;
    case 'echo':
      process.stdout.write('stdout has ' + stdin + '\\n');
      process.stderr.write('auth=' + Buffer.from('console:' + stdin).toString('base64') + '\\n');
      process.stdout.write('other=Other0Secret9Value\\n');
      process.stdout.write('Login Succeeded\\n');
      return;
    case 'echo-fail': return fail('something odd happened with ' + stdin, 42);
    case '401': return fail('Error response from daemon: login attempt to https://' + host + '/v2/ failed with status: 401 Unauthorized');
    case 'unauthorized': return fail('Error response from daemon: Get "https://' + host + '/v2/": unauthorized: authentication required');
    case '403': return fail('Error response from daemon: login attempt to https://' + host + '/v2/ failed with status: 403 Forbidden');
    case 'refused': return fail('Get "http://' + host + '/v2/": dial tcp ' + host + ': connect: connection refused');
    case 'no-such-host': return fail('Get "https://' + host + '/v2/": dial tcp: lookup ' + host + ' on 10.0.0.53:53: no such host');
    case 'io-timeout': return fail('Get "https://' + host + '/v2/": dial tcp 10.1.2.3:443: i/o timeout');
    case 'tls': return fail('Get "https://' + host + '/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority');
    case 'many-lines':
      for (let i = 1; i <= 30; i++) process.stderr.write('line ' + i + '\\n');
      process.exit(3);
    case 'killed': process.kill(process.pid, 'SIGTERM'); return;
    case 'not-logged-in': process.stdout.write('Not logged in to ' + host + '\\n'); process.exit(1);
    case 'logout-fail': return fail('open /nowhere/config.json: permission denied');
    default: process.stdout.write('Login Succeeded\\n');
  }
});
`;

/** The environment for a run of the fake docker in `mode`: PATH finds the fake first, no NODE_OPTIONS. */
function fakeEnv(mode: string, record?: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${fakeDir}:${process.env.PATH}`, FAKE_MODE: mode };
  delete env.NODE_OPTIONS;
  if (record) env.FAKE_RECORD = record;
  return { ...env, ...extra };
}

interface FakeRecord {
  argv: string[];
  stdinSha256: string;
  envNames: string[];
  envNamesHoldingStdin: string[];
  dockerConfig?: string;
}

async function readRecord(path: string): Promise<FakeRecord> {
  return JSON.parse(await readFile(path, 'utf8')) as FakeRecord;
}

async function sha256(text: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(text).digest('hex');
}

async function rejectionOf(promise: Promise<unknown>): Promise<ToolkitCiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ToolkitCiError) return error;
    throw error;
  }
  throw new Error('expected a ToolkitCiError');
}

function expectNoTokenForm(text: string): void {
  for (const form of formsOf(TOKEN.value)) expect(text).not.toContain(form);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'toolkit-ci-docker-test-'));
  fakeDir = await freshDir('fake-bin');
  emptyDir = await freshDir('empty-bin');
  await writeFile(join(fakeDir, 'docker'), FAKE_DOCKER, { mode: 0o755 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('dockerLogin with a fake docker CLI', () => {
  it('passes the token on stdin only: argv is exactly login -u console --password-stdin HOST', async () => {
    const record = join(await freshDir('record'), 'record.json');
    const dockerConfig = await freshDir('docker-config');
    const env = fakeEnv('ok', record, { EAI_TOKEN: TOKEN.value, SOMETHING: `x-${TOKEN.secret}-y` });
    const result = await dockerLogin(HOST, TOKEN, { env, dockerConfig });

    expect(result.output).toBe('Login Succeeded\n');
    const seen = await readRecord(record);
    expect(seen.argv).toEqual(['login', '-u', 'console', '--password-stdin', HOST]);
    expect(seen.stdinSha256).toBe(await sha256(TOKEN.value));
    expect(seen.dockerConfig).toBe(dockerConfig);
    // Variables holding the token (an exported EAI_TOKEN, a half of it) are left out of docker's env.
    expect(seen.envNamesHoldingStdin).toEqual([]);
    expect(seen.envNames).not.toContain('EAI_TOKEN');
    expect(seen.envNames).not.toContain('SOMETHING');
    expect(seen.envNames).toContain('FAKE_MODE');
  });

  it('normalises the host before passing it', async () => {
    const record = join(await freshDir('record'), 'record.json');
    await dockerLogin('Registry.Example.COM:5000', TOKEN, { env: fakeEnv('ok', record) });
    expect((await readRecord(record)).argv.at(-1)).toBe('registry.example.com:5000');
  });

  it('refuses a host that is not a host before running anything', async () => {
    const record = join(await freshDir('record'), 'record.json');
    const error = await rejectionOf(dockerLogin('--help', TOKEN, { env: fakeEnv('ok', record) }));
    expect(error.kind).toBe('usage');
    await expect(readFile(record)).rejects.toThrow(/ENOENT/);
  });

  it('redacts every form of the token that docker echoes, plus the given secrets', async () => {
    const secrets = new Secrets();
    secrets.add('Other0Secret9Value');
    const result = await dockerLogin(HOST, TOKEN, { env: fakeEnv('echo'), secrets });
    expect(result.output).toContain('stdout has ***');
    expect(result.output).toContain('auth=***');
    expect(result.output).toContain('other=***');
    expect(result.output).toContain('Login Succeeded');
    expectNoTokenForm(result.output);
  });

  it('redacts the token in the output quoted by an error', async () => {
    const error = await rejectionOf(dockerLogin(HOST, TOKEN, { env: fakeEnv('echo-fail') }));
    expect(error.kind).toBe('docker');
    expect(error.message).toBe(
      `docker login ${HOST} failed with exit code 42; its output:\nsomething odd happened with ***`,
    );
    expectNoTokenForm(error.message);
  });

  it.each<[string, string, string]>([
    ['401', 'auth', `Registry ${HOST} refused the token (401 Unauthorized)`],
    ['unauthorized', 'auth', `Registry ${HOST} refused the token (401 Unauthorized)`],
    ['403', 'auth', `Registry ${HOST} refused the token (403 Forbidden)`],
    [
      'refused',
      'unreachable',
      `Registry ${HOST} is unreachable (connection refused): Get "http://${HOST}/v2/": dial tcp ${HOST}: connect: connection refused`,
    ],
    [
      'no-such-host',
      'unreachable',
      `Registry ${HOST} is unreachable (no such host): Get "https://${HOST}/v2/": dial tcp: lookup ${HOST} on 10.0.0.53:53: no such host`,
    ],
    [
      'io-timeout',
      'unreachable',
      `Registry ${HOST} is unreachable (i/o timeout): Get "https://${HOST}/v2/": dial tcp 10.1.2.3:443: i/o timeout`,
    ],
    [
      'tls',
      'unreachable',
      `Registry ${HOST} is unreachable (TLS error): Get "https://${HOST}/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
    ],
  ])('maps the %s failure to kind %s', async (mode, kind, message) => {
    const error = await rejectionOf(dockerLogin(HOST, TOKEN, { env: fakeEnv(mode) }));
    expect(error.kind).toBe(kind);
    expect(error.message.startsWith(`${message}. `)).toBe(true);
  });

  it('says what to check on an auth failure', async () => {
    const error = await rejectionOf(dockerLogin(HOST, TOKEN, { env: fakeEnv('401') }));
    expect(error.hint).toBe(
      'The token is wrong or expired (a personal token lasts about an hour), or its role lacks permission on the registry',
    );
  });

  it('reports any other failure with its exit code and the last 20 lines of output', async () => {
    const error = await rejectionOf(dockerLogin(HOST, TOKEN, { env: fakeEnv('many-lines') }));
    expect(error.kind).toBe('docker');
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 11}`).join('\n');
    expect(error.message).toBe(
      `docker login ${HOST} failed with exit code 3; its last 20 lines of output (10 earlier ones left out):\n${lines}`,
    );
  });

  it('reports a docker killed by a signal', async () => {
    const error = await rejectionOf(dockerLogin(HOST, TOKEN, { env: fakeEnv('killed') }));
    expect(error.kind).toBe('docker');
    expect(error.message).toBe(`docker login ${HOST} was killed by SIGTERM and printed nothing`);
  });

  it('kills a docker that does not finish in time and fails clearly', async () => {
    const error = await rejectionOf(dockerLogin(HOST, TOKEN, { env: fakeEnv('hang'), timeoutMs: 300 }));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toMatch(
      /^docker login 127\.0\.0\.1:5000 did not finish within 300 ms and was stopped/,
    );
    expect(error.hint).toContain('The registry may be unreachable or very slow');
  });
});

describe('dockerLogout with a fake docker CLI', () => {
  it('runs exactly logout HOST with nothing on stdin', async () => {
    const record = join(await freshDir('record'), 'record.json');
    const result = await dockerLogout(HOST, { env: fakeEnv('ok', record) });
    expect(result.output).toBe('Login Succeeded\n');
    const seen = await readRecord(record);
    expect(seen.argv).toEqual(['logout', HOST]);
    expect(seen.stdinSha256).toBe(await sha256(''));
  });

  it('treats "Not logged in" as success', async () => {
    const result = await dockerLogout(HOST, { env: fakeEnv('not-logged-in') });
    expect(result.output).toBe(`Not logged in to ${HOST}\n`);
  });

  it('reports a real failure as kind docker', async () => {
    const error = await rejectionOf(dockerLogout(HOST, { env: fakeEnv('logout-fail') }));
    expect(error.kind).toBe('docker');
    expect(error.message).toBe(
      `docker logout ${HOST} failed with exit code 1; its output:\nopen /nowhere/config.json: permission denied`,
    );
  });
});

describe('a missing docker CLI', () => {
  it('fails with kind docker and says how to install it, when docker is not on PATH', async () => {
    const env = { ...process.env, PATH: emptyDir };
    const error = await rejectionOf(dockerLogin(HOST, TOKEN, { env }));
    expect(error.kind).toBe('docker');
    expect(error.message).toBe(
      'The docker CLI was not found (looked for "docker" on PATH). Install the docker CLI (the CLI alone is ' +
        'enough; no Docker daemon is needed) and put it on PATH, or give the path of the docker executable',
    );
    const logout = await rejectionOf(dockerLogout(HOST, { env }));
    expect(logout.kind).toBe('docker');
    expect(logout.message).toMatch(/^The docker CLI was not found/);
  });

  it('names an explicit docker path that does not exist', async () => {
    const dockerPath = join(emptyDir, 'docker');
    const error = await rejectionOf(dockerLogin(HOST, TOKEN, { dockerPath }));
    expect(error.kind).toBe('docker');
    expect(error.message).toMatch(
      new RegExp(`^The docker CLI was not found \\(looked for "${dockerPath}" at "`),
    );
  });
});

describe('the real docker CLI against a loopback registry', () => {
  let server: Server;
  let host: string;
  const expectedAuth = `Basic ${Buffer.from(`console:${TOKEN.value}`).toString('base64')}`;

  beforeAll(async () => {
    // Just enough of the registry API for `docker login`: GET /v2/ behind Basic auth.
    server = createServer((request, response) => {
      if (request.method === 'GET' && request.url === '/v2/') {
        if (request.headers.authorization === expectedAuth) {
          response.writeHead(200, {
            'Docker-Distribution-API-Version': 'registry/2.0',
            'Content-Type': 'application/json',
          });
          response.end('{}');
        } else {
          response.writeHead(401, {
            'WWW-Authenticate': 'Basic realm="test"',
            'Docker-Distribution-API-Version': 'registry/2.0',
          });
          response.end();
        }
        return;
      }
      response.writeHead(404);
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function auths(dockerConfig: string): Promise<Record<string, { auth?: string }>> {
    try {
      const config = JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8'));
      return config.auths ?? {};
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
  }

  async function realOptions(): Promise<DockerOptions> {
    const env = { ...process.env, EAI_TOKEN: TOKEN.value };
    return { dockerConfig: await freshDir('docker-config'), env, secrets: new Secrets() };
  }

  it('logs in with the right token, stores base64(console:TOKEN), and logs out again', async () => {
    const options = await realOptions();
    const result = await dockerLogin(host, TOKEN, options);
    expect(result.output).toContain('Login Succeeded');
    expectNoTokenForm(result.output);
    const stored = await auths(options.dockerConfig!);
    expect(stored[host]?.auth).toBe(Buffer.from(`console:${TOKEN.value}`).toString('base64'));

    await dockerLogout(host, options);
    expect(await auths(options.dockerConfig!)).not.toHaveProperty(host);
    // Logging out again, with nothing left to remove, still succeeds.
    await dockerLogout(host, options);
  });

  it('fails with kind auth on a wrong token and stores nothing', async () => {
    const options = await realOptions();
    const error = await rejectionOf(dockerLogin(host, WRONG, options));
    expect(error.kind).toBe('auth');
    expect(error.message).toMatch(
      new RegExp(`^Registry ${host.replace(/\./g, '\\.')} refused the token \\(401`),
    );
    expect(await auths(options.dockerConfig!)).not.toHaveProperty(host);
    for (const form of formsOf(WRONG.value)) expect(error.message).not.toContain(form);
  });

  it('fails with kind unreachable when nothing listens on the port', async () => {
    const unused = createServer();
    await new Promise<void>((resolve) => unused.listen(0, '127.0.0.1', resolve));
    const port = (unused.address() as AddressInfo).port;
    await new Promise<void>((resolve) => unused.close(() => resolve()));

    const options = await realOptions();
    const error = await rejectionOf(dockerLogin(`127.0.0.1:${port}`, TOKEN, options));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toMatch(
      new RegExp(`^Registry 127\\.0\\.0\\.1:${port} is unreachable \\(connection refused\\)`),
    );
    expectNoTokenForm(error.message);
  });
});
