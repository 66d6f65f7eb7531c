// The run-job command and the push-image and run-job jobs, their steps run as CircleCI runs them, with
// toolkit-ci (the CLI bundle) against the Toolkit emulator, and push-image also without Node against a
// real registry. There is no Docker daemon here: `docker build` and `docker push` are stand-ins that
// record their argv; `docker login`/`logout` are the real docker CLI.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { type RegistryInstance, registryAvailable, startRegistry } from '../../../test/support/registry.js';
import { type EmulatorHandle, startEmulator } from '../../emulator/src/index.js';
import {
  expandCommand,
  expandJob,
  type JobResult,
  type ParamValue,
  type PlanStep,
  type RunStep,
} from './support/circleci.js';
import { packOrb } from './support/pack.js';
import { CLI_BUNDLE, leaksOf, makeSandbox, type Sandbox, type SandboxOptions } from './support/sandbox.js';

const orb = packOrb();
const TOKEN = `jobs-${randomBytes(4).toString('hex')}:${randomBytes(12).toString('hex')}`;
const TOKEN_VAR = 'TOOLKIT_TOKEN';
// Secrets a user hands to a job or a build by name only: their values must stay off every argv.
const JOB_SECRET = `job-secret-${randomBytes(6).toString('hex')}`;
const BUILD_SECRET = `build-secret-${randomBytes(6).toString('hex')}`;

const requireRegistry = process.env.REQUIRE_REAL_REGISTRY === '1';
const haveRegistry = registryAvailable() || requireRegistry;
const haveCli = existsSync(CLI_BUNDLE);
const describeCli = haveCli ? describe : describe.skip;
if (!haveCli) console.warn(`${CLI_BUNDLE} not built: the orb's run-job tests are skipped`);

let sandboxes: Sandbox[] = [];
let results: JobResult[] = [];
async function sandbox(options: SandboxOptions) {
  const made = await makeSandbox({
    ...options,
    env: { [TOKEN_VAR]: TOKEN, TOOLKIT_CI_POLL_MS: '20', CIRCLE_SHA1: 'abc123', ...options.env },
  });
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
    for (const box of sandboxes) {
      expect(await leaksOf(TOKEN, box, results)).toEqual([]);
      expect((await box.calls()).join('\n')).not.toMatch(new RegExp(`${JOB_SECRET}|${BUILD_SECRET}`));
    }
  } finally {
    await Promise.all(sandboxes.map((box) => box.cleanup()));
    sandboxes = [];
    results = [];
  }
});

const steps = (result: JobResult) => result.steps.map((s) => [s.name, s.code]);
const jobIdIn = (bashEnv: string) => /^export TOOLKIT_CI_JOB_ID=(\S+)$/m.exec(bashEnv)?.[1];
const failing: PlanStep = {
  type: 'run',
  name: 'a later step fails',
  command: 'exit 1',
  environment: {},
  when: 'on_success',
};

describeCli('run-job with toolkit-ci against the emulator', () => {
  let emulator: EmulatorHandle;
  beforeAll(async () => {
    emulator = await startEmulator({
      tokens: [{ token: TOKEN, kind: 'role', identity: { fullName: 'acme.ml.ci' } }],
      timeScale: 2,
      phaseSeconds: { queuing: 1, queued: 1, cancelling: 1, requeue: 1 },
    });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  const runJob = (args: Record<string, ParamValue>) =>
    expandCommand(orb, 'run-job', {
      token_env_var: TOKEN_VAR,
      api_url: emulator.url,
      image: 'alpine:3.20',
      ...args,
    });

  it('submits, records the id, streams the log and passes when the job SUCCEEDED', async () => {
    const box = await sandbox({ node: true, cli: true, env: { WANDB_API_KEY: JOB_SECRET } });
    const result = await box.go(
      runJob({
        command: 'echo hello from the orb; echo "epochs=$EPOCHS"; exit 0',
        // A word, not a digit: toolkit-ci redacts job environment values in what it prints, and a value
        // that can occur inside a job id could garble the id the step reads from its stdout.
        env: 'EPOCHS=three\nWANDB_API_KEY\n',
        job_name: 'orb_test',
        tags: 'team=ml',
        cpu: '2',
        timeout_minutes: 5,
      }),
    );
    expect(steps(result)).toEqual([
      ['Set up toolkit-ci', 0],
      ['Run a Toolkit job', 0],
      ['Cancel the Toolkit job if it is still running', null],
    ]);
    const output = (result.steps[1]?.stdout ?? '') + (result.steps[1]?.stderr ?? '');
    expect(output).toContain('hello from the orb');
    expect(output).toContain('epochs=three');
    const id = jobIdIn(await box.bashEnvText()) as string;
    expect(output).toContain(`Toolkit job ${id} (later steps get TOOLKIT_CI_JOB_ID)`);
    const job = emulator.job(id);
    expect(job?.state).toBe('SUCCEEDED');
    expect(job?.name).toBe('orb_test');
    expect(job?.jobspec.environmentVars).toEqual(['EPOCHS=three', `WANDB_API_KEY=${JOB_SECRET}`]);
    expect(job?.jobspec.resources?.cpu).toBe(2);
    expect(job?.jobspec.tags).toEqual([{ key: 'team', value: 'ml' }]);
    const calls = await box.calls();
    expect(calls).toContain(
      `toolkit-ci job submit --image alpine:3.20 --command echo hello from the orb; echo "epochs=$EPOCHS"; exit 0 ` +
        `--name orb_test --cpu 2 --env EPOCHS=three --env WANDB_API_KEY --tag team=ml --token-env ${TOKEN_VAR} --api-url ${emulator.url}`,
    );
    expect(calls).toContain(
      `toolkit-ci job wait ${id} --follow --timeout-minutes 5 --token-env ${TOKEN_VAR} --api-url ${emulator.url}`,
    );
  });

  it('fails with exit 7 when the job fails; the cancel step finds it ended', async () => {
    const box = await sandbox({ node: true, cli: true });
    const result = await box.go(runJob({ command: 'echo about to fail; exit 3', follow: false }));
    expect(steps(result)).toEqual([
      ['Set up toolkit-ci', 0],
      ['Run a Toolkit job', 7],
      ['Cancel the Toolkit job if it is still running', 0],
    ]);
    const id = jobIdIn(await box.bashEnvText()) as string;
    expect(emulator.job(id)?.state).toBe('FAILED');
    expect(result.steps[2]?.stdout).toContain(`Job ${id} has already ended: nothing to cancel.`);
    expect(await box.calls()).not.toContainEqual(expect.stringMatching(/^toolkit-ci job cancel/));
  });

  it('cancels a job still alive when a later step fails (wait: false), unless cancel_on_fail is false', async () => {
    const box = await sandbox({ node: true, cli: true });
    const plan = runJob({ command: 'sleep 100000', wait: false });
    const cancelStep = plan.pop() as PlanStep;
    const result = await box.go([...plan, failing, cancelStep]);
    expect(steps(result)).toEqual([
      ['Set up toolkit-ci', 0],
      ['Run a Toolkit job', 0],
      ['a later step fails', 1],
      ['Cancel the Toolkit job if it is still running', 0],
    ]);
    const id = jobIdIn(await box.bashEnvText()) as string;
    expect(result.steps[3]?.stdout).toContain(`Cancelled job ${id}.`);
    expect(['CANCELLING', 'CANCELLED']).toContain(emulator.job(id)?.state);
    expect(await box.calls()).toContain(
      `toolkit-ci job cancel ${id} --token-env ${TOKEN_VAR} --api-url ${emulator.url}`,
    );

    expect(runJob({ command: 'true', cancel_on_fail: false }).map((s) => s.name)).toEqual([
      'Set up toolkit-ci',
      'Run a Toolkit job',
    ]);
  });

  it('the run-job job runs the command on the default executor; checkout only when asked', async () => {
    const plan = expandJob(orb, 'run-job', {
      token_env_var: TOKEN_VAR,
      api_url: emulator.url,
      image: 'alpine',
      command: 'exit 0',
    });
    expect(plan.map((s) => s.name)).toEqual([
      'Set up toolkit-ci',
      'Run a Toolkit job',
      'Cancel the Toolkit job if it is still running',
    ]);
    expect(expandJob(orb, 'run-job', { image: 'alpine', checkout: true })[0]).toEqual({
      type: 'builtin',
      name: 'checkout',
      args: {},
    });
    const box = await sandbox({ node: true, cli: true });
    const result = await box.go(plan);
    expect(result.failed).toBe(false);
    expect(emulator.job(jobIdIn(await box.bashEnvText()) as string)?.state).toBe('SUCCEEDED');
  });

  it('says run-job needs Node when the executor has none', async () => {
    const box = await sandbox({ node: false });
    const result = await box.go(runJob({ command: 'exit 0' }));
    expect(steps(result)).toEqual([
      ['Set up toolkit-ci', 0],
      ['Run a Toolkit job', 2],
      ['Cancel the Toolkit job if it is still running', 0],
    ]);
    expect(result.steps[1]?.stderr).toContain('run-job needs toolkit-ci, which needs Node 20+');
    expect(result.steps[2]?.stdout).toContain('nothing to cancel');
  });
});

describe('push-image', () => {
  let emulator: EmulatorHandle;
  let registry: RegistryInstance | undefined;
  beforeAll(async () => {
    emulator = await startEmulator({
      tokens: [{ token: TOKEN, kind: 'role', identity: { fullName: 'acme.ml.ci' } }],
    });
    if (haveRegistry) registry = await startRegistry({ name: 'volatile', passwords: [TOKEN] });
  });
  afterAll(async () => {
    await Promise.all([emulator?.close(), registry?.stop()]);
  });
  const pushImage = (host: string, args: Record<string, ParamValue> = {}) =>
    expandJob(orb, 'push-image', {
      image: 'acme.ml/trainer',
      tags: '${CIRCLE_SHA1}-3days, latest',
      registry: 'volatile',
      volatile_registry_host: host,
      token_env_var: TOKEN_VAR,
      build_args: 'VERSION=1.4.0\nNPM_TOKEN',
      ...args,
    });
  const buildStep = (host: string) =>
    pushImage(host).find((s) => s.name === 'Build and push acme.ml/trainer') as RunStep;

  /** Runs the whole job and checks what every push-image run must do. */
  async function pushAndCheck(
    box: Awaited<ReturnType<typeof sandbox>>,
    host: string,
    args: Record<string, ParamValue>,
  ) {
    const result = await box.go(pushImage(host, args));
    expect(steps(result)).toEqual([
      ['checkout', null],
      ['setup_remote_docker', null],
      ['Set up toolkit-ci', 0],
      ['Log in to Toolkit (registry volatile)', 0],
      ['Build and push acme.ml/trainer', 0],
      ['Log out of Toolkit (registry volatile)', 0],
    ]);
    const calls = await box.calls();
    const ref = `${host}/acme.ml/trainer`;
    expect(calls.filter((c) => /^docker (build|push)/.test(c))).toEqual([
      `docker build --file Dockerfile --tag ${ref}:abc123-3days --tag ${ref}:latest --build-arg VERSION=1.4.0 --build-arg NPM_TOKEN .`,
      `docker push ${ref}:abc123-3days`,
      `docker push ${ref}:latest`,
    ]);
    expect(calls).toContain(`docker login -u console --password-stdin ${host}`);
    expect(result.steps[4]?.stdout).toContain(`Pushed ${ref}:latest`);
    expect(await box.bashEnvText()).toContain(`export TOOLKIT_CI_IMAGE=${ref}:abc123-3days\n`);
    // push-image gives later steps the image, not the token (export_env: false), and logs out at the end.
    expect(await box.bashEnvText()).not.toContain('EAI_TOKEN');
    expect(await box.dockerConfig.authHosts()).toEqual([]);
    return result;
  }

  (haveCli ? it : it.skip)(
    'with toolkit-ci: verifies, logs in to the emulator registry, builds, pushes, logs out',
    async () => {
      const box = await sandbox({
        node: true,
        cli: true,
        stubBuildPush: true,
        env: { NPM_TOKEN: BUILD_SECRET },
      });
      const result = await pushAndCheck(box, emulator.volatileRegistryHost, { api_url: emulator.url });
      expect(result.steps[3]?.stdout + (result.steps[3]?.stderr ?? '')).toContain(
        'Authenticated as acme.ml.ci',
      );
    },
  );

  (haveRegistry ? it : it.skip)('without Node: the docker CLI alone against a real registry', async () => {
    const box = await sandbox({ node: false, stubBuildPush: true, env: { NPM_TOKEN: BUILD_SECRET } });
    await pushAndCheck(box, (registry as RegistryInstance).host, {});
  });

  it('docker_layer_caching picks the setup_remote_docker variant', () => {
    const remoteDocker = (dlc: boolean) =>
      pushImage('r.example.com', { docker_layer_caching: dlc }).filter(
        (s) => s.name === 'setup_remote_docker',
      );
    expect(remoteDocker(true)).toEqual([
      { type: 'builtin', name: 'setup_remote_docker', args: { docker_layer_caching: true } },
    ]);
    expect(remoteDocker(false)).toEqual([{ type: 'builtin', name: 'setup_remote_docker', args: {} }]);
  });

  it("refuses a tag that uses the token's variable, an empty variable, and a bad image name", async () => {
    const box = await sandbox({ node: false, stubBuildPush: true });
    const step = buildStep('r.example.com');
    const run = (environment: Record<string, string>) =>
      box.go([{ ...step, environment: { ...step.environment, ...environment } }]);
    for (const tags of ['$EAI_TOKEN', `\${${TOKEN_VAR}}-x`]) {
      const result = await run({ PARAM_TAGS: tags });
      expect([tags, result.steps[0]?.code]).toEqual([tags, 2]);
      expect(result.steps[0]?.stderr).toContain("a tag may not use the token's variable");
    }
    const unset = await run({ PARAM_TAGS: '$NOT_SET_HERE' });
    expect(unset.steps[0]?.code).toBe(2);
    expect(unset.steps[0]?.stderr).toContain('tag "$NOT_SET_HERE" does not give a valid Docker tag');
    const image = await run({ PARAM_IMAGE: 'Acme/Trainer' });
    expect(image.steps[0]?.code).toBe(2);
    expect(image.steps[0]?.stderr).toContain('is not ORG.ACCOUNT/NAME in lower case');
    const both = await run({ PARAM_REGISTRY: 'both' });
    expect(both.steps[0]?.stderr).toContain('push-image pushes to one registry');
    expect((await box.calls()).filter((c) => /^docker (build|push)/.test(c))).toEqual([]);
  });
});
