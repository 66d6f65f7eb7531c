// `toolkit-ci plugin` run the way Drone and Woodpecker run a plugin step: the bundle as a process, the step's
// settings as PLUGIN_* variables, the workspace as DRONE_WORKSPACE/CI_WORKSPACE, against the emulator and
// real registries.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmulatorHandle, startEmulator } from '../../../packages/emulator/src/index.js';
import { expectNoLeak } from '../../../test/support/leaks.js';
import { NODE24_PATH } from '../../../test/support/nodes.js';
import { registryAvailable, startRegistries } from '../../../test/support/registry.js';
import { listSetting } from '../src/plugin.js';
import { runInProcess } from './in-process.js';
import { Cleanup, type CliResult, expectNoTokenInOutput, runCli } from './run-cli.js';

const TOKEN = 'drone-access:dr0ne/secret+value=';
const requireRegistry = process.env.REQUIRE_REAL_REGISTRY === '1';
const describeRegistry = registryAvailable() || requireRegistry ? describe : describe.skip;

let emulator: EmulatorHandle;
const cleanup = new Cleanup();

beforeAll(async () => {
  emulator = await startEmulator({ timeScale: 5 });
  emulator.addToken({
    token: TOKEN,
    kind: 'role',
    identity: { fullName: 'acme.ml.drone', account: 'acme.ml' },
  });
});
afterAll(async () => {
  await cleanup.run();
  await emulator?.close();
});

/** A fresh workspace folder, as Drone mounts at /drone/src. */
async function workspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'toolkit-ci-workspace-'));
  cleanup.add({ cleanup: () => rm(dir, { recursive: true, force: true }) });
  return dir;
}

/** Runs the plugin step with `settings` (names as in .drone.yml) in `ws`. */
async function plugin(
  settings: Record<string, string>,
  options: { ws?: string; env?: Record<string, string | undefined>; node?: string } = {},
): Promise<CliResult> {
  const ws = options.ws ?? (await workspace());
  const env: Record<string, string | undefined> = {
    DRONE: 'true',
    DRONE_WORKSPACE: ws,
    PLUGIN_API_URL: emulator.url,
    TOOLKIT_CI_POLL_MS: '10',
  };
  for (const [name, value] of Object.entries(settings)) env[`PLUGIN_${name.toUpperCase()}`] = value;
  const result = await runCli(['plugin'], { env: { ...env, ...options.env }, cwd: ws, node: options.node });
  return cleanup.add(result);
}

function expectClean(result: CliResult): void {
  expectNoTokenInOutput(result, TOKEN);
}

async function auths(dir: string): Promise<string[]> {
  try {
    return Object.keys(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')).auths ?? {}).sort();
  } catch {
    return [];
  }
}

describeRegistry('plugin login against real registries', () => {
  let registries: Awaited<ReturnType<typeof startRegistries>>;
  beforeAll(async () => {
    registries = await startRegistries([TOKEN]);
  });
  afterAll(async () => {
    await registries?.stop();
  });
  const hosts = () => ({
    registry_host: registries.regular.host,
    volatile_registry_host: registries.volatile.host,
  });

  it.each([
    ['the machine Node', process.execPath],
    ['Node 24', NODE24_PATH],
  ])(
    'on %s, docker_config: true keeps the credentials in a 0600 workspace folder for a later step, with a warning',
    async (_name, node) => {
      const ws = await workspace();
      const result = await plugin(
        { token: TOKEN, registry: 'both', docker_config: 'true', ...hosts() },
        { ws, node },
      );
      expect(result.stderr).not.toContain('toolkit-ci: error');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Authenticated as acme.ml.drone (account acme.ml)\n');
      expect(result.stdout).toContain(`Logged in to ${registries.regular.host}\n`);
      const folder = join(ws, '.toolkit-docker');
      expect(result.stdout).toContain('kept in .toolkit-docker (config.json, mode 0600)');
      expect(result.stderr).toMatch(
        /warning: \.toolkit-docker holds the registry token .*DOCKER_CONFIG=.*rm -rf /,
      );
      expect((await stat(folder)).mode & 0o777).toBe(0o700);
      expect((await stat(join(folder, 'config.json'))).mode & 0o777).toBe(0o600);
      expect(await auths(folder)).toEqual([registries.regular.host, registries.volatile.host].sort());
      // The default DOCKER_CONFIG of the step was not touched.
      expect(await auths(result.dockerConfig)).toEqual([]);
      expectClean(result);

      // A later step (another container) uses the folder: here, the docker CLI logging out with it.
      execFileSync('docker', ['logout', registries.volatile.host], {
        env: { PATH: process.env.PATH ?? '', DOCKER_CONFIG: folder, HOME: result.home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(await auths(folder)).toEqual([registries.regular.host]);
    },
  );

  it('without docker_config, the login is checked in a temporary folder and nothing is left behind', async () => {
    const ws = await workspace();
    const result = await plugin({ token: TOKEN, registry: 'regular', ...hosts() }, { ws });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Logged in to ${registries.regular.host}\n`);
    expect(result.stderr).toContain('Set docker_config to keep them in the workspace for later steps');
    expect(await readdir(ws)).toEqual([]);
    expect(await auths(result.dockerConfig)).toEqual([]);
    expect(existsSync(join(result.home, '.docker'))).toBe(false);
    expectClean(result);
  });
});

describe('plugin jobs against the emulator', () => {
  it('job_* settings submit a job, stream its log and succeed; map and list settings are understood', async () => {
    const result = await plugin({
      token: TOKEN,
      registry: 'none',
      job_image: 'alpine',
      job_command: 'echo hello $WHO from $PLACE; echo second line',
      job_env: '{"WHO":"drone","PLACE":"ci"}',
      job_tags: 'team=ml,stage=test',
      job_data: 'acme.ml.data:/data,acme.ml.other@v1:/other:ro',
      job_cpu: '2',
    });
    expect(result.stderr).not.toContain('toolkit-ci: error');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('hello drone from ci\nsecond line\n');
    const id = /Submitted job ([0-9a-f-]{36})/.exec(result.stdout)?.[1] as string;
    expect(emulator.job(id)?.jobspec).toMatchObject({
      environmentVars: ['WHO=drone', 'PLACE=ci'],
      tags: [
        { key: 'team', value: 'ml' },
        { key: 'stage', value: 'test' },
      ],
      data: ['acme.ml.data:/data', 'acme.ml.other@v1:/other:ro'],
      resources: { cpu: 2 },
    });
    expect(result.stdout).toContain(`Job ${id} SUCCEEDED`);
    expectClean(result);
  });

  it('the token can come from EAI_TOKEN; a bare job_env name passes a variable of the step, redacted in the log', async () => {
    const result = await plugin(
      {
        registry: 'none',
        job_image: 'alpine',
        job_command: 'echo key $API_KEY',
        job_env: 'API_KEY,MODE=fast',
      },
      { env: { EAI_TOKEN: TOKEN, API_KEY: 'sk-plugin-secret-value' } },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('key ***\n');
    expectNoLeak('sk-plugin-secret-value', [{ name: 'stdout', text: result.stdout }]);
    expectClean(result);
  });

  it('a failed job fails the step with exit 7; job_wait: false only submits', async () => {
    const failed = await plugin({
      token: TOKEN,
      registry: 'none',
      job_image: 'alpine',
      job_command: 'exit 4',
    });
    expect(failed.code).toBe(7);
    expect(failed.stderr).toMatch(/toolkit-ci: error: job .* FAILED, exit code 4/);
    const noWait = await plugin({
      token: TOKEN,
      registry: 'none',
      job_image: 'alpine',
      job_command: 'exit 4',
      job_wait: 'false',
    });
    expect(noWait.code).toBe(0);
    expect(noWait.stdout).toMatch(/Submitted job [0-9a-f-]{36}\n$/);
  });

  it('docker_config with the emulator registry writes to the named workspace folder', async () => {
    const ws = await workspace();
    const result = await plugin(
      { token: TOKEN, registry: emulator.registryHost, docker_config: 'ci/docker' },
      { ws, env: { DRONE_WORKSPACE: undefined, CI_WORKSPACE: ws } },
    );
    expect(result.code).toBe(0);
    expect(await auths(join(ws, 'ci', 'docker'))).toEqual([emulator.registryHost]);
  });
});

describe('bad settings give clear errors before anything is done', () => {
  it.each([
    [
      { token: TOKEN, registy: 'volatile' },
      /Unknown plugin setting "registy".*Known settings: token, api_url, registry/,
    ],
    [{ token: TOKEN, verify: 'maybe' }, /Plugin setting "verify" must be true or false, not "maybe"/],
    [{ registry: 'none' }, /No token: setting "token" is empty and EAI_TOKEN is not set.*from_secret/],
    [
      { token: TOKEN, registry: 'regualr' },
      /Unknown registry "regualr" in setting "registry".*Did you mean "regular"\?/,
    ],
    [
      { token: TOKEN, api_url: 'http://toolkit.example.com' },
      /setting "api_url" http:\/\/toolkit\.example\.com uses plain http/,
    ],
    [
      { token: TOKEN, registry: 'none', job_image: 'alpine', job_cpu: 'many' },
      /setting "job_cpu" must be a number > 0/,
    ],
    [{ token: TOKEN, job_follow: 'true' }, /setting "job_follow" given without a job/],
    [
      { token: TOKEN, registry: 'none', job_image: 'alpine', job_timeout_minutes: 'soon' },
      /setting "job_timeout_minutes" must be a number of minutes/,
    ],
    [{ token: 'bad token:zq9x7w' }, /The token from setting "token" contains whitespace inside it/],
  ])('%j', async (settings, message) => {
    // In-process (the same main() the bundle runs): nine more processes would only cost time.
    const before = emulator.journal.length;
    const ws = await workspace();
    const env: NodeJS.ProcessEnv = { DRONE_WORKSPACE: ws, PLUGIN_API_URL: emulator.url };
    for (const [name, value] of Object.entries(settings)) env[`PLUGIN_${name.toUpperCase()}`] = value;
    const result = await runInProcess(['plugin'], { env, cwd: ws });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(emulator.journal.length).toBe(before);
    expect(await readdir(ws)).toEqual([]);
    for (const token of [TOKEN, 'bad token:zq9x7w']) {
      expectNoLeak(token, [
        { name: 'stdout', text: result.stdout },
        { name: 'stderr', text: result.stderr },
      ]);
    }
  });

  it('the bundle too: an unknown setting exits 2', async () => {
    const result = await plugin({ token: TOKEN, docker_confg: 'true' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown plugin setting "docker_confg"');
    expectClean(result);
  });

  it('a refused token exits 3', async () => {
    const result = await plugin({ token: 'wrong-access:wrong-secret', registry: 'none' });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('GET /v1/me failed with HTTP 401');
  });
});

describe('listSetting (how Drone/Woodpecker encode lists and maps)', () => {
  it('turns a JSON map and comma lists into lines, keeping commas inside values', () => {
    expect(listSetting('env', '{"A":"1","B":2}')).toBe('A=1\nB=2');
    expect(listSetting('env', 'A=1,B=x,C')).toBe('A=1\nB=x\nC');
    // In a list, a comma before a word that could be a name starts a new item: values with commas go in a map.
    expect(listSetting('env', 'URLS=a,b c')).toBe('URLS=a,b c');
    expect(listSetting('env', '{"URLS":"a,b"}')).toBe('URLS=a,b');
    expect(listSetting('tags', 'k=v,team.name=ml')).toBe('k=v\nteam.name=ml');
    expect(listSetting('data', 'a:/x,b:/y:ro')).toBe('a:/x\nb:/y:ro');
    expect(listSetting('command', 'a,b')).toBe('a,b');
    expect(() => listSetting('env', '{oops')).toThrow(/job_env" starts with "\{" but is not a valid map/);
  });
});
