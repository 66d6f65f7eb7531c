// The login and logout commands, their steps run as CircleCI runs them (bash -eo pipefail, PARAM_*
// environment, one BASH_ENV file per job), against real registries (Debian's docker-registry) with the
// docker CLI alone (no Node on PATH), and with toolkit-ci (the CLI bundle) against the Toolkit emulator
// (API and registry login endpoints) and the real registries. Every run's raw output, BASH_ENV and every
// docker/toolkit-ci argv is checked for every form of the token.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type RegistryInstance,
  type RegistryPair,
  registryAvailable,
  startRegistries,
  startRegistry,
} from '../../../test/support/registry.js';
import { type EmulatorHandle, startEmulator } from '../../emulator/src/index.js';
import { expandCommand, type JobResult, type ParamValue, type PlanStep } from './support/circleci.js';
import { packOrb } from './support/pack.js';
import { CLI_BUNDLE, leaksOf, makeSandbox, type Sandbox, type SandboxOptions } from './support/sandbox.js';

const orb = packOrb();
// An ACCESS:SECRET role key with the characters encodings change, like the leak suite's.
const TOKEN = `orb-${randomBytes(4).toString('hex')}:${randomBytes(12).toString('base64')}+/=%"x`;
const OTHER_TOKEN = `other-${randomBytes(4).toString('hex')}:${randomBytes(12).toString('hex')}`;
const TOKEN_VAR = 'MY_TOOLKIT_TOKEN';

const requireRegistry = process.env.REQUIRE_REAL_REGISTRY === '1';
const haveRegistry = registryAvailable() || requireRegistry;
const describeRegistry = haveRegistry ? describe : describe.skip;
const haveCli = existsSync(CLI_BUNDLE);
const describeCli = haveCli ? describe : describe.skip;
if (!haveRegistry)
  console.warn('docker-registry/htpasswd not installed: the real-registry orb tests are skipped');
if (!haveCli) console.warn(`${CLI_BUNDLE} not built: the orb tests with toolkit-ci are skipped`);

/** A later step, as a user's job would have, that uses what login exported without printing it. */
const useExport: PlanStep = {
  type: 'run',
  name: 'use EAI_TOKEN',
  command: `if [ "$EAI_TOKEN" = "$${TOKEN_VAR}" ]; then echo "EAI_TOKEN is set"; fi; echo "console=\${EAI_CONSOLE_URL:-unset}"`,
  environment: {},
  when: 'on_success',
};

let sandboxes: Sandbox[] = [];
let results: JobResult[] = [];

/** A sandbox whose runs are all leak-checked after the test. */
async function sandbox(
  options: SandboxOptions,
): Promise<Sandbox & { go(plan: PlanStep[], env?: Record<string, string>): Promise<JobResult> }> {
  const made = await makeSandbox({ ...options, env: { [TOKEN_VAR]: TOKEN, ...options.env } });
  sandboxes.push(made);
  return Object.assign(made, {
    async go(plan: PlanStep[], env?: Record<string, string>) {
      const result = await made.run(plan, env);
      results.push(result);
      return result;
    },
  });
}

afterEach(async () => {
  try {
    for (const box of sandboxes) expect(await leaksOf(TOKEN, box, results)).toEqual([]);
  } finally {
    await Promise.all(sandboxes.map((box) => box.cleanup()));
    sandboxes = [];
    results = [];
  }
});

const login = (args: Record<string, ParamValue>) =>
  expandCommand(orb, 'login', { token_env_var: TOKEN_VAR, ...args });
const logout = (args: Record<string, ParamValue>) => expandCommand(orb, 'logout', args);
/** The plan's steps with extra environment for the main script (PARAM_* as a direct user of it would set). */
const withEnv = (plan: PlanStep[], environment: Record<string, string>): PlanStep[] =>
  plan.map((step) =>
    step.type === 'run' && step.name.startsWith('Log')
      ? { ...step, environment: { ...step.environment, ...environment } }
      : step,
  );
const auth = (token: string) => Buffer.from(`console:${token}`).toString('base64');

describeRegistry('login and logout without Node: the docker CLI alone, real registries', () => {
  let registries: RegistryPair;
  let refusing: RegistryInstance;
  beforeAll(async () => {
    [registries, refusing] = await Promise.all([
      startRegistries([TOKEN]),
      startRegistry({ name: 'refusing', passwords: [OTHER_TOKEN] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([registries?.stop(), refusing?.stop()]);
  });
  const hosts = () => ({
    registry_host: registries.regular.host,
    volatile_registry_host: registries.volatile.host,
  });

  it('logs in to both with the token on stdin, exports EAI_TOKEN by reference, and logs out', async () => {
    const box = await sandbox({ node: false });
    const result = await box.go([
      {
        type: 'run',
        name: 'no node here',
        command: 'if command -v node; then exit 1; fi',
        environment: {},
        when: 'on_success',
      },
      ...login({ registry: 'both', ...hosts() }),
      useExport,
    ]);
    expect(result.failed).toBe(false);
    expect(result.steps.map((s) => [s.name, s.code])).toEqual([
      ['no node here', 0],
      ['Set up toolkit-ci', 0],
      ['Log in to Toolkit (registry both)', 0],
      ['use EAI_TOKEN', 0],
    ]);
    const loginStep = result.steps[2];
    expect(loginStep?.stdout).toContain('No Node here, so the token is not checked with GET /v1/me');
    expect(loginStep?.stdout).toContain(
      `Logged in to ${registries.regular.host}\nLogged in to ${registries.volatile.host}\n`,
    );
    expect(loginStep?.stdout).toContain(
      `Later steps of this job get EAI_TOKEN from the environment variable ${TOKEN_VAR}.`,
    );
    expect(result.steps[3]?.stdout).toBe('EAI_TOKEN is set\nconsole=unset\n');
    const config = await box.dockerConfig.read();
    expect(Object.keys(config.auths ?? {}).sort()).toEqual(
      [registries.regular.host, registries.volatile.host].sort(),
    );
    expect(config.auths?.[registries.regular.host]?.auth).toBe(auth(TOKEN));
    expect(await box.bashEnvText()).toBe(
      `export TOOLKIT_CI_MODE=docker\nexport TOOLKIT_CI_CMD=''\nexport EAI_TOKEN="\${${TOKEN_VAR}}"\n`,
    );
    expect(await box.calls()).toEqual([
      `docker login -u console --password-stdin ${registries.regular.host}`,
      `docker login -u console --password-stdin ${registries.volatile.host}`,
    ]);

    const out = await box.go(logout({ registry: 'both', ...hosts() }));
    expect(out.steps.map((s) => [s.name, s.code])).toEqual([['Log out of Toolkit (registry both)', 0]]);
    expect(out.steps[0]?.stdout).toBe(
      `Logged out of ${registries.regular.host}\nLogged out of ${registries.volatile.host}\n`,
    );
    expect(await box.dockerConfig.authHosts()).toEqual([]);
  });

  it('rolls back when a registry refuses the token: exit 3, no credential left, the variable named', async () => {
    const box = await sandbox({ node: false });
    const result = await box.go(
      login({
        registry: 'both',
        registry_host: registries.regular.host,
        volatile_registry_host: refusing.host,
      }),
    );
    expect(result.failed).toBe(true);
    const step = result.steps[1];
    expect(step?.code).toBe(3);
    expect(step?.stdout).toContain(
      `Logged in to ${registries.regular.host}\nLogged out of ${registries.regular.host} again (rollback)`,
    );
    expect(step?.stderr).toContain(
      `error: registry ${refusing.host} refused the token in the environment variable ${TOKEN_VAR}`,
    );
    expect(await box.dockerConfig.authHosts()).toEqual([]);
    expect(await box.bashEnvText()).not.toContain('EAI_TOKEN');
  });

  it('says clearly when the variable is empty, before any docker call', async () => {
    const box = await sandbox({ node: false, env: { [TOKEN_VAR]: '' } });
    const result = await box.go(login({ registry: 'regular', ...hosts() }));
    expect(result.steps[1]?.code).toBe(2);
    expect(result.steps[1]?.stderr).toContain(
      `error: the environment variable ${TOKEN_VAR} is empty or not set.`,
    );
    expect(result.steps[1]?.stderr).toContain('Project Settings > Environment Variables');
    expect(await box.calls()).toEqual([]);
  });

  it('does not name a "variable" that looks like a token (someone put the token where the name goes)', async () => {
    const box = await sandbox({ node: false });
    const result = await box.go(
      login({ registry: 'regular', token_env_var: 'kP7dQ2xW9mZr4tLs8vNb6hYc', ...hosts() }),
    );
    expect(result.steps[1]?.code).toBe(2);
    expect(result.steps[1]?.stderr).toContain(
      'the environment variable named by token_env_var (a 24-character name)',
    );
    expect(result.steps[1]?.stderr).not.toContain('kP7dQ2xW9mZr4tLs8vNb6hYc');
  });

  it('trims a trailing newline from the secret with a warning', async () => {
    const box = await sandbox({ node: false, env: { [TOKEN_VAR]: `${TOKEN}\n` } });
    const result = await box.go(login({ registry: 'volatile', ...hosts() }));
    expect(result.failed).toBe(false);
    expect(result.steps[1]?.stdout).toContain(
      `warning: the environment variable ${TOKEN_VAR} has whitespace around the token`,
    );
    expect((await box.dockerConfig.read()).auths?.[registries.volatile.host]?.auth).toBe(auth(TOKEN));
  });

  it('takes host lists and refuses unknown words when the script is used with its own PARAM_REGISTRY', async () => {
    const box = await sandbox({ node: false });
    const list = await box.go(
      withEnv(login({ registry: 'none' }), {
        PARAM_REGISTRY: `${registries.volatile.host}, ${registries.regular.host}`,
      }),
    );
    expect(list.failed).toBe(false);
    expect(await box.dockerConfig.authHosts()).toEqual(
      [registries.regular.host, registries.volatile.host].sort(),
    );
    for (const bad of ['regulr', 'https://registry.example.com', 'host/path', 'none, regular']) {
      const result = await box.go(withEnv(login({ registry: 'none' }), { PARAM_REGISTRY: bad }));
      expect([bad, result.steps[1]?.code]).toEqual([bad, 2]);
      expect(result.steps[1]?.stderr).toMatch(
        /is not regular, volatile, both, none or a host\[:port\]|use none alone/,
      );
    }
  });

  it('registry none only exports; export_env false exports nothing; EAI_TOKEN itself needs no export', async () => {
    const none = await sandbox({ node: false });
    const result = await none.go([...login({ registry: 'none' }), useExport]);
    expect(result.steps[1]?.stdout).toContain('registry none: no docker login.');
    expect(result.steps[2]?.stdout).toBe('EAI_TOKEN is set\nconsole=unset\n');
    expect(await none.calls()).toEqual([]);

    const noExport = await sandbox({ node: false });
    await noExport.go(login({ registry: 'none', export_env: false, api_url: 'http://127.0.0.1:9' }));
    expect(await noExport.bashEnvText()).not.toMatch(/EAI_TOKEN|EAI_CONSOLE_URL/);

    const direct = await sandbox({ node: false, env: { EAI_TOKEN: TOKEN } });
    const plain = await direct.go(
      expandCommand(orb, 'login', { registry: 'none', api_url: 'https://console.example.com' }),
    );
    expect(plain.failed).toBe(false);
    expect(await direct.bashEnvText()).toContain('export EAI_CONSOLE_URL=https://console.example.com\n');
    expect(await direct.bashEnvText()).not.toContain('EAI_TOKEN');
  });

  it('fails with exit 6 when the executor has no docker CLI', async () => {
    const box = await sandbox({ node: false, noDocker: true });
    const result = await box.go(login({ registry: 'regular', ...hosts() }));
    expect(result.steps[1]?.code).toBe(6);
    expect(result.steps[1]?.stderr).toContain('the docker CLI is not installed');
  });

  it('logout falls back to the docker CLI when toolkit-ci fails', async () => {
    const box = await sandbox({
      node: false,
      bins: { 'broken-toolkit-ci': 'echo "cannot start" >&2; exit 1' },
    });
    await box.go(login({ registry: 'both', ...hosts() }));
    expect(await box.dockerConfig.authHosts()).toHaveLength(2);
    // As if install had chosen a toolkit-ci that no longer runs (later BASH_ENV lines win).
    await appendFile(
      box.bashEnv,
      `export TOOLKIT_CI_MODE=cli\nexport TOOLKIT_CI_CMD=${box.bin}/broken-toolkit-ci\n`,
    );
    const out = await box.go(logout({ registry: 'both', ...hosts() }));
    expect(out.steps[0]?.code).toBe(0);
    expect(out.steps[0]?.stdout).toContain(
      'warning: toolkit-ci logout failed; logging out with the docker CLI instead.',
    );
    expect(await box.dockerConfig.authHosts()).toEqual([]);
  });

  it('logout runs after a failed step too, and needs neither token nor install', async () => {
    const box = await sandbox({ node: false, env: { [TOKEN_VAR]: '' } });
    const failing: PlanStep = {
      type: 'run',
      name: 'tests',
      command: 'exit 1',
      environment: {},
      when: 'on_success',
    };
    const result = await box.go([failing, ...logout({ registry: 'volatile', ...hosts() })]);
    expect(result.steps.map((s) => s.code)).toEqual([1, 0]);
    expect(result.steps[1]?.stdout).toBe(`Logged out of ${registries.volatile.host}\n`);
  });
});

// The leak suite's token shapes (test/leaks), for the path the leak suite cannot run: no Node, so no API
// call and different failures. Each shape gets its own registry (one password per instance).
const LEAK_TOKENS: Record<string, string> = {
  'role key': `ci-pusher-${randomBytes(3).toString('hex')}:kP7dQ2xW9mZr4tLs8vNb6hYc`,
  'long opaque': [
    Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url'),
    Buffer.from(`{"sub":"demo.demo_user","jti":"${randomBytes(8).toString('hex')}"}`).toString('base64url'),
    Buffer.from('leak-suite-signature-'.repeat(4)).toString('base64url'),
  ].join('.'),
  'role key with + / = % " \\': `ci-pusher-7f3a:Zx9+q/w=e%r"t\\y0K${randomBytes(3).toString('hex')}`,
  'opaque with + / = % " \\': `tk_9Qz+Lm/8=Rv%2F"uW\\pX7~Kc4${randomBytes(3).toString('hex')}`,
};

describeRegistry(
  'leak matrix without Node: every token shape under every failure the docker path has',
  () => {
    const registryOf = new Map<string, RegistryInstance>();
    let refusing: RegistryInstance;
    beforeAll(async () => {
      const names = Object.keys(LEAK_TOKENS);
      const started = await Promise.allSettled([
        ...names.map((name, i) =>
          startRegistry({ name: `orb-leak-${i}`, passwords: [LEAK_TOKENS[name] as string] }),
        ),
        startRegistry({ name: 'orb-leak-refusing', passwords: ['none-of-these-tokens'] }),
      ]);
      const failed = started.find((outcome) => outcome.status === 'rejected');
      if (failed) {
        // Stop the ones that did start, or their processes keep jest alive.
        await Promise.all(
          started.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.stop() : undefined)),
        );
        throw failed.reason;
      }
      const instances = started.map((outcome) => (outcome as PromiseFulfilledResult<RegistryInstance>).value);
      names.forEach((name, i) => {
        registryOf.set(name, instances[i] as RegistryInstance);
      });
      refusing = instances[names.length] as RegistryInstance;
    });
    afterAll(async () => {
      await Promise.all([...registryOf.values(), refusing].map((registry) => registry?.stop()));
    });

    it.each(Object.keys(LEAK_TOKENS))('%s', async (name) => {
      const token = LEAK_TOKENS[name] as string;
      const host = (registryOf.get(name) as RegistryInstance).host;
      const cases: {
        mode: string;
        env?: Record<string, string>;
        box?: Partial<SandboxOptions>;
        args: Record<string, ParamValue>;
        code: number;
        error?: RegExp;
      }[] = [
        { mode: 'success', args: { registry: 'regular', registry_host: host }, code: 0 },
        {
          mode: 'whitespace around it',
          env: { [TOKEN_VAR]: ` ${token}\n` },
          args: { registry: 'regular', registry_host: host },
          code: 0,
        },
        {
          mode: 'registry 401, rolled back',
          args: { registry: 'both', registry_host: host, volatile_registry_host: refusing.host },
          code: 3,
          error: /refused the token/,
        },
        {
          mode: 'registry down',
          args: { registry: 'both', registry_host: host, volatile_registry_host: '127.0.0.1:9' },
          code: 6,
          error: /docker login to 127\.0\.0\.1:9 failed/,
        },
        {
          mode: 'docker CLI missing',
          box: { noDocker: true },
          args: { registry: 'regular', registry_host: host },
          code: 6,
          error: /docker CLI is not installed/,
        },
        {
          mode: 'malformed (a pasted header)',
          env: { [TOKEN_VAR]: `Bearer ${token}` },
          args: { registry: 'regular', registry_host: host },
          code: 2,
          error: /has whitespace inside/,
        },
      ];
      const report: string[] = [];
      for (const item of cases) {
        const box = await makeSandbox({ node: false, ...item.box, env: { [TOKEN_VAR]: token, ...item.env } });
        try {
          const result = await box.run([
            ...login(item.args),
            useExport,
            ...logout({ registry: 'both', registry_host: host, volatile_registry_host: refusing.host }),
          ]);
          const step = result.steps[1];
          expect([item.mode, step?.code]).toEqual([item.mode, item.code]);
          if (item.error)
            expect([item.mode, step?.stderr]).toEqual([item.mode, expect.stringMatching(item.error)]);
          expect([item.mode, await leaksOf(token, box, [result])]).toEqual([item.mode, []]);
          // The last step (logout) always ran, and no credential is left.
          expect([item.mode, result.steps.at(-1)?.code]).toEqual([item.mode, 0]);
          expect([item.mode, await box.dockerConfig.authHosts()]).toEqual([item.mode, []]);
          if (item.code === 0) {
            expect([item.mode, result.steps[2]?.stdout]).toEqual([
              item.mode,
              'EAI_TOKEN is set\nconsole=unset\n',
            ]);
          } else {
            expect([item.mode, await box.bashEnvText()]).toEqual([
              item.mode,
              expect.not.stringContaining('EAI_TOKEN'),
            ]);
          }
          report.push(`${item.mode}: exit ${step?.code}, clean`);
        } finally {
          await box.cleanup();
        }
      }
      expect(report).toHaveLength(cases.length);
    });
  },
);

describeCli('login and logout with toolkit-ci (the CLI bundle)', () => {
  let emulator: EmulatorHandle;
  let registries: RegistryPair | undefined;
  beforeAll(async () => {
    emulator = await startEmulator({
      tokens: [{ token: TOKEN, kind: 'role', identity: { fullName: 'acme.ml.ci' } }],
    });
    if (haveRegistry) registries = await startRegistries([TOKEN]);
  });
  afterAll(async () => {
    await Promise.all([emulator?.close(), registries?.stop()]);
  });

  it('verifies the token, logs in to the emulator registries, exports by reference, logs out', async () => {
    const box = await sandbox({ node: true, cli: true });
    const hosts = {
      registry_host: emulator.registryHost,
      volatile_registry_host: emulator.volatileRegistryHost,
    };
    const result = await box.go([...login({ registry: 'both', api_url: emulator.url, ...hosts }), useExport]);
    expect(result.failed).toBe(false);
    const step = result.steps[1];
    expect(step?.stdout + (step?.stderr ?? '')).toContain('Authenticated as acme.ml.ci');
    expect(step?.stdout + (step?.stderr ?? '')).toContain(`Logged in to ${emulator.registryHost}`);
    expect(result.steps[2]?.stdout).toBe(`EAI_TOKEN is set\nconsole=${emulator.url}\n`);
    expect(await box.dockerConfig.authHosts()).toEqual(
      [emulator.registryHost, emulator.volatileRegistryHost].sort(),
    );
    expect(emulator.journal.some((e) => e.path === '/v1/me' && e.auth === 'valid' && e.status === 200)).toBe(
      true,
    );
    const bashEnv = await box.bashEnvText();
    expect(bashEnv).toContain(`export TOOLKIT_CI_MODE=cli\nexport TOOLKIT_CI_CMD=${box.bin}/toolkit-ci\n`);
    expect(bashEnv).toContain(
      `export EAI_TOKEN="\${${TOKEN_VAR}}"\nexport EAI_CONSOLE_URL=${emulator.url}\n`,
    );
    const calls = await box.calls();
    expect(calls).toContain('toolkit-ci --version');
    expect(calls).toContain(
      `toolkit-ci login --token-env ${TOKEN_VAR} --registry both --export none --registry-host ${emulator.registryHost} ` +
        `--volatile-registry-host ${emulator.volatileRegistryHost} --api-url ${emulator.url}`,
    );
    expect(calls.filter((c) => c.startsWith('docker login -u console --password-stdin'))).toHaveLength(2);

    const out = await box.go(logout({ registry: 'both', ...hosts }));
    expect(out.failed).toBe(false);
    expect(await box.dockerConfig.authHosts()).toEqual([]);
    expect(await box.calls()).toContain(
      `toolkit-ci logout --registry both --registry-host ${emulator.registryHost} --volatile-registry-host ${emulator.volatileRegistryHost}`,
    );
  });

  it('fails fast with exit 3 when Toolkit refuses the token, and logs in nowhere', async () => {
    const box = await sandbox({ node: true, cli: true, env: { [TOKEN_VAR]: OTHER_TOKEN } });
    const result = await box.go(
      login({ registry: 'both', api_url: emulator.url, registry_host: emulator.registryHost }),
    );
    expect(result.steps[1]?.code).toBe(3);
    expect(await box.dockerConfig.authHosts()).toEqual([]);
    expect(await box.calls()).not.toContainEqual(expect.stringMatching(/^docker login/));
    expect(await leaksOf(OTHER_TOKEN, box, [result])).toEqual([]);
  });

  it('verify false skips GET /v1/me', async () => {
    const box = await sandbox({ node: true, cli: true });
    const before = emulator.journal.length;
    const result = await box.go(
      login({
        registry: 'regular',
        verify: false,
        api_url: emulator.url,
        registry_host: emulator.registryHost,
      }),
    );
    expect(result.failed).toBe(false);
    expect(emulator.journal.slice(before).filter((e) => e.path === '/v1/me')).toEqual([]);
    expect(
      (await box.calls()).some((c) => c.startsWith('toolkit-ci login') && c.includes('--no-verify')),
    ).toBe(true);
  });

  (haveRegistry ? it : it.skip)(
    'logs in to real registries, verifying the token with the emulator API',
    async () => {
      const pair = registries as RegistryPair;
      const box = await sandbox({ node: true, cli: true });
      const result = await box.go(
        login({
          registry: 'both',
          api_url: emulator.url,
          registry_host: pair.regular.host,
          volatile_registry_host: pair.volatile.host,
        }),
      );
      expect(result.failed).toBe(false);
      const config = await box.dockerConfig.read();
      expect(config.auths?.[pair.regular.host]?.auth).toBe(auth(TOKEN));
      expect(config.auths?.[pair.volatile.host]?.auth).toBe(auth(TOKEN));
      await box.go(
        logout({
          registry: 'both',
          registry_host: pair.regular.host,
          volatile_registry_host: pair.volatile.host,
        }),
      );
      expect(await box.dockerConfig.authHosts()).toEqual([]);
    },
  );
});
