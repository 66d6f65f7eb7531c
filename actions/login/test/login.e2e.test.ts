// actions/login run exactly as the GitHub runner runs it (test/support/runner.ts), from its committed
// bundle, under the machine's Node and Node 24, against the Toolkit emulator and two real registries.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmulatorHandle, startEmulator } from '../../../packages/emulator/src/index.js';
import { tempDockerConfig } from '../../../test/support/docker-config.js';
import { expectNoLeak, withoutMaskCommands } from '../../../test/support/leaks.js';
import { nodeRuntimes, REPO_ROOT } from '../../../test/support/nodes.js';
import { registryAvailable, startRegistries, startRegistry } from '../../../test/support/registry.js';
import { type RunActionResult, runAction } from '../../../test/support/runner.js';

const ACTION = `${REPO_ROOT}/actions/login`;
// A role key whose encodings differ from its raw form (+ / = % " \), so every form is exercised.
const TOKEN = 'ci-pusher-7f3a:Zx9+q/w=e%r"t\\y0K';
const IDENTITY = { id: 'role-1', name: 'pusher', fullName: 'acme.ml.pusher', account: 'acme.ml' };
const requireRegistry = process.env.REQUIRE_REAL_REGISTRY === '1';
const describeRegistry = registryAvailable() || requireRegistry ? describe : describe.skip;

let emulator: EmulatorHandle;
let registries: Awaited<ReturnType<typeof startRegistries>>;

beforeAll(async () => {
  emulator = await startEmulator({ timeScale: 5 });
  emulator.addToken({ token: TOKEN, kind: 'role', identity: IDENTITY });
});
afterAll(async () => {
  await emulator?.close();
});

/** Runs the action with a fresh DOCKER_CONFIG holding one unrelated entry that must survive. */
async function login(
  withInputs: Record<string, string>,
  options: { node?: string; env?: Record<string, string | undefined> } = {},
) {
  const docker = await tempDockerConfig({ auths: { 'unrelated.example.com': { auth: 'dW5yZWxhdGVk' } } });
  const result = await runAction({
    action: ACTION,
    with: { token: TOKEN, 'api-url': emulator.url, ...withInputs },
    env: { DOCKER_CONFIG: docker.dir, ...options.env },
    node: options.node,
  });
  return { result, docker };
}

/** Every sink but the intended ones (GITHUB_ENV's EAI_TOKEN, config.json) is free of every form. */
function expectNoTokenOutsideSinks(result: RunActionResult, token = TOKEN): void {
  const { EAI_TOKEN: _intended, ...otherEnv } = result.exportedEnv;
  const phases = [['main', result.main] as const, ...(result.post ? [['post', result.post] as const] : [])];
  expectNoLeak(token, [
    ...phases.flatMap(([name, phase]) => [
      { name: `${name} stdout`, text: withoutMaskCommands(phase.stdout) },
      { name: `${name} stderr`, text: phase.stderr },
      { name: `${name} log`, text: phase.log },
    ]),
    { name: 'outputs', text: JSON.stringify(result.outputs) },
    { name: 'state', text: JSON.stringify(result.state) },
    { name: 'summary', text: result.summary },
    { name: 'other exported env', text: JSON.stringify(otherEnv) },
  ]);
}

describeRegistry('actions/login against real registries', () => {
  beforeAll(async () => {
    registries = await startRegistries([TOKEN]);
  });
  afterAll(async () => {
    await registries?.stop();
  });

  const hosts = () => ({
    'registry-host': registries.regular.host,
    'volatile-registry-host': registries.volatile.host,
  });

  describe.each(nodeRuntimes().map((runtime) => [runtime.name, runtime.path]))('on %s', (_name, node) => {
    it.each([
      ['regular', () => [registries.regular.host]],
      ['volatile', () => [registries.volatile.host]],
      ['both', () => [registries.regular.host, registries.volatile.host]],
    ])('logs in to %s, post logs out of exactly those', async (registry, expected) => {
      const { result, docker } = await login({ registry, ...hosts() }, { node });
      try {
        expect(result.main.exitCode).toBe(0);
        expect(result.outputs).toEqual({
          identity: 'acme.ml.pusher',
          account: 'acme.ml',
          registries: expected().join(','),
        });
        expect(result.exportedEnv.EAI_TOKEN).toBe(TOKEN);
        expect(result.exportedEnv.EAI_CONSOLE_URL).toBe(emulator.url);
        expect(JSON.parse(result.state.registries)).toEqual(expected());
        expect(result.main.log).toContain('Token verified: acme.ml.pusher');
        expect(result.summary).toContain('acme.ml.pusher');
        // post ran and left only the unrelated entry
        expect(result.post?.exitCode).toBe(0);
        expect(await docker.authHosts()).toEqual(['unrelated.example.com']);
        expectNoTokenOutsideSinks(result);
      } finally {
        await docker.cleanup();
        await result.cleanup();
      }
    });
  });

  it('holds exactly the logged-in auths between main and post (post: false)', async () => {
    const docker = await tempDockerConfig({ auths: { 'unrelated.example.com': { auth: 'dW5yZWxhdGVk' } } });
    const result = await runAction({
      action: ACTION,
      with: { token: TOKEN, 'api-url': emulator.url, registry: 'both', ...hosts() },
      env: { DOCKER_CONFIG: docker.dir },
      post: false,
    });
    try {
      expect(result.main.exitCode).toBe(0);
      const config = await docker.read();
      expect(Object.keys(config.auths ?? {}).sort()).toEqual(
        ['unrelated.example.com', registries.regular.host, registries.volatile.host].sort(),
      );
      const expectedAuth = Buffer.from(`console:${TOKEN}`).toString('base64');
      expect(config.auths?.[registries.regular.host]?.auth).toBe(expectedAuth);
    } finally {
      await docker.cleanup();
      await result.cleanup();
    }
  });

  it('logs in to an explicit host[:port] list', async () => {
    const { result, docker } = await login({ registry: `${registries.volatile.host}\n` });
    try {
      expect(result.main.exitCode).toBe(0);
      expect(result.outputs.registries).toBe(registries.volatile.host);
      expect(await docker.authHosts()).toEqual(['unrelated.example.com']);
    } finally {
      await docker.cleanup();
      await result.cleanup();
    }
  });

  it('logout: false keeps the credentials after post', async () => {
    const { result, docker } = await login({ registry: 'regular', logout: 'false', ...hosts() });
    try {
      expect(result.main.exitCode).toBe(0);
      expect(result.post?.log).toContain('logout: false');
      expect((await docker.authHosts()).sort()).toEqual(
        [registries.regular.host, 'unrelated.example.com'].sort(),
      );
    } finally {
      await docker.cleanup();
      await result.cleanup();
    }
  });

  it('a registry that refuses the token fails the step and rolls back the logins already done', async () => {
    const other = await startRegistry({ name: 'refusing', passwords: ['some-other-password'] });
    try {
      // regular accepts the token, the second host refuses it: nothing may stay behind.
      const { result, docker } = await login({
        registry: `regular,${other.host}`,
        ...hosts(),
      });
      try {
        expect(result.main.exitCode).not.toBe(0);
        expect(result.main.annotations.find((a) => a.level === 'error')?.message).toMatch(
          new RegExp(`Registry ${other.host} refused the token`),
        );
        expect(await docker.authHosts()).toEqual(['unrelated.example.com']);
        expect(result.exportedEnv).toEqual({});
        expectNoTokenOutsideSinks(result);
      } finally {
        await docker.cleanup();
        await result.cleanup();
      }
    } finally {
      await other.stop();
    }
  });
});

describe('actions/login against the emulator alone', () => {
  async function expectCleanFailure(
    result: RunActionResult,
    docker: { authHosts(): Promise<string[]> },
    message: RegExp,
  ) {
    expect(result.main.exitCode).not.toBe(0);
    const error = result.main.annotations.find((a) => a.level === 'error')?.message ?? '';
    expect(error).toMatch(message);
    expect(result.exportedEnv).toEqual({});
    expect(await docker.authHosts()).toEqual(['unrelated.example.com']);
  }

  it('verify: false and export-env: false skip the API call and the export', async () => {
    const before = emulator.journal.length;
    const { result, docker } = await login({
      registry: emulator.registryHost,
      verify: 'false',
      'export-env': 'false',
    });
    try {
      expect(result.main.exitCode).toBe(0);
      expect(emulator.journal.slice(before).filter((entry) => entry.path.startsWith('/v1'))).toEqual([]);
      expect(result.outputs).toEqual({ identity: '', account: '', registries: emulator.registryHost });
      expect(result.exportedEnv).toEqual({});
      expect(await docker.authHosts()).toEqual(['unrelated.example.com']);
    } finally {
      await docker.cleanup();
      await result.cleanup();
    }
  });

  it('token-source: job fetches the in-job token, masks it and logs in with it', async () => {
    const { result, docker } = await login({
      token: '',
      'token-source': 'job',
      'job-token-url': `${emulator.internalUrl}/v1/token`,
      registry: emulator.registryHost,
    });
    try {
      expect(result.main.exitCode).toBe(0);
      const jobToken = result.exportedEnv.EAI_TOKEN;
      expect(jobToken).toBeTruthy();
      expect(result.main.masks).toContain(jobToken);
      expectNoTokenOutsideSinks(result, jobToken);
    } finally {
      await docker.cleanup();
      await result.cleanup();
    }
  });

  it('a token the API refuses (401) fails fast with its meaning and leaves nothing behind', async () => {
    const wrong = 'not-a-known:token-value';
    const { result, docker } = await login({ token: wrong, registry: emulator.registryHost });
    try {
      await expectCleanFailure(result, docker, /GET \/v1\/me.*401.*invalid, expired or revoked/s);
      expectNoTokenOutsideSinks(result, wrong);
    } finally {
      await docker.cleanup();
      await result.cleanup();
    }
  });

  it('a malformed token fails before any request, naming the input', async () => {
    const before = emulator.journal.length;
    const bad = 'abc def:ghi';
    const { result, docker } = await login({ token: bad, registry: emulator.registryHost });
    try {
      await expectCleanFailure(result, docker, /input "token"/);
      expect(emulator.journal.length).toBe(before);
      expectNoTokenOutsideSinks(result, bad);
    } finally {
      await docker.cleanup();
      await result.cleanup();
    }
  });

  it('a missing docker CLI fails with a clear error', async () => {
    const { result, docker } = await login(
      { registry: emulator.registryHost },
      { env: { PATH: '/nonexistent-bin' } },
    );
    try {
      await expectCleanFailure(result, docker, /docker CLI was not found/);
    } finally {
      await docker.cleanup();
      await result.cleanup();
    }
  });

  it('an unreachable Toolkit fails after its retries, with the attempts counted', async () => {
    const { result, docker } = await login({
      'api-url': 'http://127.0.0.1:9',
      registry: emulator.registryHost,
    });
    try {
      await expectCleanFailure(result, docker, /GET \/v1\/me.*attempt/is);
      expect(result.main.log).toMatch(/attempt 2 in/);
    } finally {
      await docker.cleanup();
      await result.cleanup();
    }
  });

  it('refuses to export without GITHUB_ENV (no ::set-env fallback with the token on stdout), before any call', async () => {
    // Straight from the bundle: the runner harness always provides GITHUB_ENV, as every current runner does.
    const before = emulator.journal.length;
    const run = spawnSync(process.execPath, [`${ACTION}/dist/index.js`], {
      env: {
        PATH: process.env.PATH,
        INPUT_TOKEN: TOKEN,
        'INPUT_TOKEN-SOURCE': 'input',
        'INPUT_JOB-TOKEN-URL': '',
        INPUT_REGISTRY: 'none',
        'INPUT_API-URL': emulator.url,
        'INPUT_REGISTRY-HOST': '',
        'INPUT_VOLATILE-REGISTRY-HOST': '',
        INPUT_VERIFY: 'true',
        'INPUT_EXPORT-ENV': 'true',
        INPUT_LOGOUT: 'true',
      },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('::error::GITHUB_ENV is not set, so EAI_TOKEN cannot be exported safely');
    expect(run.stdout).not.toContain('::set-env');
    expect(emulator.journal.length).toBe(before);
    expectNoLeak(TOKEN, [
      { name: 'stdout', text: withoutMaskCommands(run.stdout) },
      { name: 'stderr', text: run.stderr },
    ]);
  });

  it('rejects both a token and token-source: job', async () => {
    const { result, docker } = await login({ 'token-source': 'job', registry: emulator.registryHost });
    try {
      await expectCleanFailure(result, docker, /"token" and "token-source: job" were both given/);
    } finally {
      await docker.cleanup();
      await result.cleanup();
    }
  });
});
