import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type TempDockerConfig, tempDockerConfig } from '../support/docker-config.js';
import {
  probeRegistry,
  type RegistryPair,
  registryAvailable,
  startRegistries,
  startRegistry,
} from '../support/registry.js';

// An ACCESS:SECRET role key, the shape Toolkit hands out.
const TOKEN = `${randomBytes(8).toString('hex')}:${randomBytes(16).toString('hex')}`;
const ACCESS = TOKEN.split(':')[0] as string;

/** Every form of the token that must never show up (see /work/shared: "SECRETS"). */
function tokenForms(token: string): string[] {
  return [
    token,
    ...token.split(':'),
    Buffer.from(`console:${token}`).toString('base64'),
    Buffer.from(token).toString('base64'),
    encodeURIComponent(token),
    JSON.stringify(token).slice(1, -1),
  ];
}

function dockerLogin(host: string, password: string, dockerConfig: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('docker', ['login', '-u', 'console', '--password-stdin', host], {
      env: { PATH: process.env.PATH ?? '', HOME: dockerConfig, DOCKER_CONFIG: dockerConfig },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(password);
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('real registry harness', () => {
  let registries: RegistryPair;
  let config: TempDockerConfig;

  beforeAll(async () => {
    if (!registryAvailable()) {
      throw new Error(
        'docker-registry and htpasswd are required: apt-get install docker-registry apache2-utils',
      );
    }
    registries = await startRegistries([TOKEN]);
    config = await tempDockerConfig();
  });

  afterAll(async () => {
    await registries?.stop();
    await config?.cleanup();
  });

  it('starts two registries on distinct loopback ports answering 401 on /v2/', async () => {
    expect(registries.regular.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(registries.volatile.host).not.toBe(registries.regular.host);
    expect(await probeRegistry(registries.regular.host)).toBe(401);
    expect(await probeRegistry(registries.volatile.host)).toBe(401);
  });

  it('accepts a real docker login with the token on stdin at both, into the temp DOCKER_CONFIG', async () => {
    for (const registry of [registries.regular, registries.volatile]) {
      const login = await dockerLogin(registry.host, TOKEN, config.dir);
      expect(login.stdout).toContain('Login Succeeded');
      expect(login.code).toBe(0);
    }
    expect(await config.authHosts()).toEqual([registries.regular.host, registries.volatile.host].sort());
    const auth = (await config.read()).auths?.[registries.regular.host]?.auth ?? '';
    expect(Buffer.from(auth, 'base64').toString()).toBe(`console:${TOKEN}`);
  });

  it('refuses a wrong password with 401', async () => {
    const other = await tempDockerConfig();
    try {
      const login = await dockerLogin(registries.regular.host, `${ACCESS}:wrong`, other.dir);
      expect(login.code).toBe(1);
      expect(login.stderr).toContain('401 Unauthorized');
      expect(await other.authHosts()).toEqual([]);
    } finally {
      await other.cleanup();
    }
  });

  it('keeps the token out of the registry argv and config: htpasswd holds only a bcrypt hash', async () => {
    for (const registry of [registries.regular, registries.volatile]) {
      const argv = readFileSync(`/proc/${registry.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      expect(argv).toEqual(['docker-registry', 'serve', registry.configPath]);
      const files = [argv.join(' '), await readFile(registry.configPath, 'utf8')];
      const htpasswd = await readFile(registry.htpasswdPath, 'utf8');
      files.push(htpasswd);
      for (const text of files) for (const form of tokenForms(TOKEN)) expect(text).not.toContain(form);
      expect(htpasswd.trim()).toMatch(/^console:\$2y\$\d\d\$[./A-Za-z0-9]{53}$/);
    }
  });

  it('rotates the accepted password without a restart (setPassword)', async () => {
    const rotated = `${ACCESS}:${randomBytes(16).toString('hex')}`;
    const registry = await startRegistry({ name: 'rotation', passwords: [TOKEN] });
    const dir = await tempDockerConfig();
    try {
      await registry.setPassword(rotated);
      expect((await dockerLogin(registry.host, TOKEN, dir.dir)).code).toBe(1);
      expect((await dockerLogin(registry.host, rotated, dir.dir)).code).toBe(0);
    } finally {
      await registry.stop();
      await dir.cleanup();
    }
  });

  it('refuses several passwords for one instance, with the reason', async () => {
    await expect(startRegistry({ passwords: ['a', 'b'] })).rejects.toThrow('exactly one password');
    await expect(startRegistry({ passwords: ['two\nlines'] })).rejects.toThrow('line break');
  });

  it('stop() ends the process, frees the port and removes the dir', async () => {
    const registry = await startRegistry({ name: 'stopping', passwords: [TOKEN] });
    await registry.stop();
    expect(await probeRegistry(registry.host)).toBeNull();
    expect(await canListen(registry.port)).toBe(true);
    expect(() => readFileSync(registry.configPath)).toThrow();
    await registry.stop(); // idempotent
  });

  it('gives each registry its own password when asked', async () => {
    const other = `${ACCESS}:${randomBytes(16).toString('hex')}`;
    const pair = await startRegistries({ regular: [TOKEN], volatile: [other] });
    const dir = await tempDockerConfig();
    try {
      expect((await dockerLogin(pair.regular.host, TOKEN, dir.dir)).code).toBe(0);
      expect((await dockerLogin(pair.volatile.host, TOKEN, dir.dir)).code).toBe(1);
      expect((await dockerLogin(pair.volatile.host, other, dir.dir)).code).toBe(0);
    } finally {
      await pair.stop();
      await dir.cleanup();
    }
  });
});
