// The registry login endpoints, against the real docker CLI (no daemon needed) and a plain fetch client.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmulatorHandle, startEmulator } from '../src/index.js';
import { ROLE_TOKEN } from './helpers.js';

let emu: EmulatorHandle;
let dockerConfig: string;

beforeAll(async () => {
  emu = await startEmulator({ timeScale: 2 });
  dockerConfig = await mkdtemp(join(tmpdir(), 'emulator-docker-'));
});

afterAll(async () => {
  await emu.close();
  await rm(dockerConfig, { recursive: true, force: true });
});

/** `docker login -u console --password-stdin HOST` with the token on stdin only. */
function dockerLogin(host: string, token: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['login', '-u', 'console', '--password-stdin', host], {
      env: { ...process.env, DOCKER_CONFIG: dockerConfig },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(token);
  });
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('docker login (real docker CLI)', () => {
  it('succeeds on the regular registry with a valid token', async () => {
    const { code, output } = await dockerLogin(emu.registryHost, ROLE_TOKEN);
    expect(output).toContain('Login Succeeded');
    expect(code).toBe(0);
    const config = JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8'));
    expect(config.auths[emu.registryHost].auth).toBe(Buffer.from(`console:${ROLE_TOKEN}`).toString('base64'));
  });

  it('succeeds on the volatile registry with a fresh in-job token', async () => {
    const token = await (await fetch(`${emu.internalUrl}/v1/token`)).text();
    const { code } = await dockerLogin(emu.volatileRegistryHost, token);
    expect(code).toBe(0);
  });

  it('fails with 401 for a wrong token', async () => {
    const { code, output } = await dockerLogin(emu.registryHost, 'demo-access:wrong-secret');
    expect(code).toBe(1);
    expect(output).toContain('401 Unauthorized');
    const entries = emu.journal.filter((e) => e.target === 'registry');
    expect(entries.at(-1)).toMatchObject({ path: '/v2/', status: 401, auth: 'invalid' });
    expect(JSON.stringify(emu.journal)).not.toContain('wrong-secret');
  });
});

describe('GET /v2/ (plain fetch)', () => {
  it('answers 200 {} with the distribution header for console:<valid token>', async () => {
    const answer = await fetch(`http://${emu.registryHost}/v2/`, {
      headers: { authorization: basic('console', ROLE_TOKEN) },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(await answer.json()).toEqual({});
  });

  it('answers 401 with the Basic challenge without auth, for another user, or for a revoked key', async () => {
    const none = await fetch(`http://${emu.volatileRegistryHost}/v2/`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="toolkit-emulator"');
    expect(none.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    const otherUser = await fetch(`http://${emu.registryHost}/v2/`, {
      headers: { authorization: basic('admin', ROLE_TOKEN) },
    });
    expect(otherUser.status).toBe(401);
    emu.addToken({
      token: 'registry-key:to-revoke',
      kind: 'role',
      identity: { fullName: 'demo.ci.registry_user' },
    });
    await fetch(`${emu.url}/v1/role/demo.ci.registry_user/key/registry-key`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ROLE_TOKEN}` },
    });
    const revoked = await fetch(`http://${emu.registryHost}/v2/`, {
      headers: { authorization: basic('console', 'registry-key:to-revoke') },
    });
    expect(revoked.status).toBe(401);
    expect(emu.journal.at(-1)).toMatchObject({ target: 'registry', auth: 'revoked' });
  });

  it('answers 404 for anything but the login endpoint', async () => {
    const answer = await fetch(`http://${emu.registryHost}/v2/demo.ci/app/manifests/latest`, {
      headers: { authorization: basic('console', ROLE_TOKEN) },
    });
    expect(answer.status).toBe(404);
  });
});
