/**
 * The leak suite's row for the CircleCI orb (test/leaks/entry-points.ts): the `login` command's steps
 * (install, then login.sh) run as CircleCI runs them on a Node executor, toolkit-ci from the CLI bundle,
 * the token in EAI_TOKEN (the default token_env_var), then a later step of the job that uses the exported
 * EAI_TOKEN, then the `logout` command (`when: always`). Sealed like the other rows: fresh HOME, TMPDIR,
 * DOCKER_CONFIG and BASH_ENV, every step's processes sampled from /proc, every file written read back.
 *
 * Two sinks are shaped by CircleCI itself, and say so in their names: every process of a step inherits the
 * job's environment, where CircleCI puts the project's EAI_TOKEN, so the processes' environments are
 * scanned without their EAI_TOKEN entry (anything else holding the token is still found); and the later
 * step writes the EAI_TOKEN it sees to a file, the intended sink that proves the export reached it.
 * The docker-only path (no Node) makes no API call, so the suite's API modes do not apply to it: its own
 * leak matrix is in packages/circleci-orb/test/login.test.ts.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntryPoint, EntryPointRun } from '../../../../test/leaks/entry-points.js';
import { startProcessSampler } from '../../../../test/support/cmdline-sampler.js';
import { readFilesUnder, withoutEnvEntry } from '../../../../test/support/file-scan.js';
import { expandCommand, type JobResult, type PlanStep, runPlan } from './circleci.js';
import { packOrb } from './pack.js';
import { CLI_BUNDLE } from './sandbox.js';

const UNRELATED_AUTH = {
  auths: { 'unrelated.example.com': { auth: Buffer.from('user:pass').toString('base64') } },
};
/** What install writes to BASH_ENV for its own later runs: bookkeeping, not an export of the login. */
const INSTALL_BOOKKEEPING = ['TOOLKIT_CI_MODE', 'TOOLKIT_CI_CMD'];
/** Short names of the run's steps, in order, for the suite's one-line reports. */
const STEP_LABELS = ['install', 'login', 'later', 'logout'];

async function readOr(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

function auths(text: string): string[] {
  try {
    return Object.keys((JSON.parse(text) as { auths?: object }).auths ?? {}).sort();
  } catch {
    return [];
  }
}

/** The messages of a failed step: toolkit-ci's `toolkit-ci: error: ...` and the scripts' `error: ...`. */
function errorsOf(result: JobResult): string[] {
  return result.steps.flatMap((step) =>
    step.stderr
      .split('\n')
      .map((line) => /^(?:toolkit-ci: )?error: (.*)$/.exec(line)?.[1])
      .filter((message): message is string => message !== undefined),
  );
}

/** The CircleCI orb's login command (CLI path), a later step using EAI_TOKEN, and the logout command. */
export const orbLogin: EntryPoint = {
  name: 'CircleCI orb login + logout (steps as CircleCI runs them, toolkit-ci bundle)',
  async run(scenario): Promise<EntryPointRun> {
    const root = await mkdtemp(join(tmpdir(), 'toolkit-ci-leak-orb-'));
    const dirs = {
      home: join(root, 'home'),
      tmp: join(root, 'tmp'),
      dockerConfig: join(root, 'docker-config'),
      ci: join(root, 'ci'),
    };
    await Promise.all(Object.values(dirs).map((dir) => mkdir(dir)));
    const configFile = join(dirs.dockerConfig, 'config.json');
    await writeFile(configFile, `${JSON.stringify(UNRELATED_AUTH)}\n`, { mode: 0o600 });
    const bashEnv = join(dirs.ci, 'bash_env');
    await writeFile(bashEnv, '');
    const seenToken = join(dirs.ci, 'eai-token-seen-by-a-later-step');

    const orb = packOrb();
    const registries = {
      registry: 'both',
      registry_host: scenario.registries.regular,
      volatile_registry_host: scenario.registries.volatile,
    };
    const later: PlanStep = {
      type: 'run',
      name: 'a later step uses EAI_TOKEN',
      command: `printf '%s' "$EAI_TOKEN" >'${seenToken}'`,
      environment: {},
      when: 'on_success',
    };
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dirs.home,
      TMPDIR: dirs.tmp,
      DOCKER_CONFIG: dirs.dockerConfig,
      CIRCLECI: 'true',
      BASH_ENV: bashEnv,
      TOOLKIT_CI_CLI: `${process.execPath} ${CLI_BUNDLE}`,
      EAI_TOKEN: scenario.token,
    };
    for (const [name, value] of Object.entries(scenario.env)) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    const sampler = startProcessSampler();
    const options = { env, cwd: dirs.home, onSpawn: (pid: number) => sampler.addRoot(pid) };
    let main: JobResult;
    let cleanup: JobResult;
    let configAfterLogin: string;
    try {
      main = await runPlan(
        [...expandCommand(orb, 'login', { api_url: scenario.apiUrl, ...registries }), later],
        options,
      );
      configAfterLogin = await readOr(configFile);
      cleanup = await runPlan(expandCommand(orb, 'logout', registries), options);
    } catch (error) {
      sampler.stop();
      await rm(root, { recursive: true, force: true });
      throw error;
    }
    const processes = sampler.stop();
    const files = await readFilesUnder([
      { label: 'HOME', dir: dirs.home },
      { label: 'TMPDIR', dir: dirs.tmp },
      { label: 'DOCKER_CONFIG', dir: dirs.dockerConfig },
      { label: 'CI', dir: dirs.ci },
    ]);
    const exported: Record<string, string> = {};
    for (const line of (await readOr(bashEnv)).split('\n')) {
      const match = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
      if (match && !INSTALL_BOOKKEEPING.includes(match[1] as string))
        exported[match[1] as string] = match[2] as string;
    }
    const steps = [...main.steps, ...cleanup.steps];
    return {
      exitCodes: steps.map((step, i) => `${STEP_LABELS[i] ?? i}=${step.code ?? 'skipped'}`).join(' '),
      succeeded: !main.failed && !cleanup.failed,
      cleanupOk: !cleanup.failed,
      errors: [...errorsOf(main), ...errorsOf(cleanup)],
      sinks: [
        ...steps.flatMap((step, index) => [
          { name: `step ${index} (${step.name}) stdout (raw)`, text: step.stdout },
          { name: `step ${index} (${step.name}) stderr (raw)`, text: step.stderr },
        ]),
        { name: 'command lines', text: processes.flatMap((p) => p.cmdlines).join('\n') },
        {
          name: "child processes' environments (without the EAI_TOKEN entry CircleCI puts in every step)",
          text: processes.flatMap((p) => p.environs.map((e) => withoutEnvEntry(e, 'EAI_TOKEN'))).join('\n'),
        },
        { name: 'file names', text: files.map((f) => f.path).join('\n') },
        // BASH_ENV is scanned whole: the orb exports EAI_TOKEN by reference, so it must never hold a form.
        ...files
          .filter((file) => file.path !== seenToken)
          .map((file) => ({
            name: `file ${file.name}${file.path === configFile ? ' after logout' : ''}`,
            text: file.text,
          })),
      ],
      intended: [
        { name: 'EAI_TOKEN as a later step of the job sees it', text: await readOr(seenToken) },
        { name: "Docker's config.json after login", text: configAfterLogin },
      ],
      processes,
      filesScanned: files.length,
      exported,
      credentialsLeft: auths(await readOr(configFile)).filter((host) => !(host in UNRELATED_AUTH.auths)),
      cleanup: () => rm(root, { recursive: true, force: true }),
    };
  },
};
