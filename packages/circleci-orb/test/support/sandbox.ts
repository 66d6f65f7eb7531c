/**
 * A throw-away CircleCI job environment for running the orb's steps: a BASH_ENV file, HOME, an isolated
 * DOCKER_CONFIG, and a bin folder that is the only source of `docker` (a wrapper that records each call's
 * argv, then runs the real docker CLI) and, on request, of toolkit-ci (the same for the CLI bundle).
 * Without Node the PATH is that bin folder alone, so the scripts find no node, npx or anything else.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type TempDockerConfig, tempDockerConfig } from '../../../../test/support/docker-config.js';
import { formsOf } from '../../../core/src/index.js';
import { type JobResult, type PlanStep, runPlan } from './circleci.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const CLI_BUNDLE = join(REPO_ROOT, 'packages/cli/dist/index.js');
const REAL_DOCKER = '/usr/local/bin/docker';

export interface SandboxOptions {
  /** Node on PATH (the machine's /usr/bin); false leaves PATH = the bin folder alone. */
  node: boolean;
  /** Run toolkit-ci from the CLI bundle through TOOLKIT_CI_CLI. */
  cli?: boolean;
  /** docker build/push only record their argv (no daemon here); other docker commands are real. */
  stubBuildPush?: boolean;
  /** Leave docker out of the bin folder. */
  noDocker?: boolean;
  /** More executables for the bin folder: name -> bash script body (after the shebang). */
  bins?: Record<string, string>;
  /** The job's environment besides PATH, HOME, BASH_ENV, DOCKER_CONFIG, CIRCLECI. */
  env?: Record<string, string>;
}

export interface Sandbox {
  dir: string;
  bin: string;
  bashEnv: string;
  dockerConfig: TempDockerConfig;
  /** The job's base environment (each step adds its own `environment:`). */
  env: Record<string, string>;
  run(plan: PlanStep[], extraEnv?: Record<string, string>): Promise<JobResult>;
  bashEnvText(): Promise<string>;
  /** One line per recorded call: `docker ARGS` or `toolkit-ci ARGS`. */
  calls(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/**
 * A bash script that appends `label ARGS` to the call log, then does `then`. For `docker login`, which must
 * get the token on stdin only, the line also says when the process's environment holds the token's variable
 * (the one PARAM_ENV_VAR_NAME names), so a test's exact expectation of the calls catches it. (Other docker
 * calls inherit it from CircleCI, which puts project variables in every step's environment.)
 */
function recorder(log: string, label: string, then: string): string {
  const note =
    label === 'docker'
      ? `note=''; if [ "$1" = login ] && [ -n "\${PARAM_ENV_VAR_NAME:-}" ] && [ -n "\${!PARAM_ENV_VAR_NAME:-}" ]; then note=' [environment holds the token variable]'; fi\n`
      : "note=''\n";
  return `#!/bin/bash\n${note}printf '%s\\n' "${label} $*$note" >>'${log}'\n${then}\n`;
}

async function writeExecutable(path: string, text: string): Promise<void> {
  await writeFile(path, text);
  await chmod(path, 0o755);
}

/** Makes a sandbox; call cleanup() when done. */
export async function makeSandbox(options: SandboxOptions): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'toolkit-ci-orb-'));
  const bin = join(dir, 'bin');
  const home = join(dir, 'home');
  const work = join(dir, 'work');
  await Promise.all([mkdir(bin), mkdir(home), mkdir(work)]);
  const bashEnv = join(dir, 'bash_env');
  await writeFile(bashEnv, '');
  const log = join(dir, 'calls.log');
  await writeFile(log, '');
  const dockerConfig = await tempDockerConfig();
  if (!options.noDocker) {
    const real = `exec ${REAL_DOCKER} "$@"`;
    const stub = `case "$1" in build|push) echo "(test stand-in: docker $1 needs a daemon)"; exit 0 ;; esac\n${real}`;
    await writeExecutable(join(bin, 'docker'), recorder(log, 'docker', options.stubBuildPush ? stub : real));
  }
  const env: Record<string, string> = {
    PATH: options.node ? `${bin}:/usr/bin:/bin` : bin,
    HOME: home,
    BASH_ENV: bashEnv,
    DOCKER_CONFIG: dockerConfig.dir,
    CIRCLECI: 'true',
    CI: 'true',
    ...options.env,
  };
  if (options.cli) {
    const cli = join(bin, 'toolkit-ci');
    await writeExecutable(
      cli,
      recorder(log, 'toolkit-ci', `exec '${process.execPath}' '${CLI_BUNDLE}' "$@"`),
    );
    env.TOOLKIT_CI_CLI = cli;
  }
  for (const [name, body] of Object.entries(options.bins ?? {})) {
    await writeExecutable(join(bin, name), `#!/bin/bash\n${body}\n`);
  }
  return {
    dir,
    bin,
    bashEnv,
    dockerConfig,
    env,
    run: (plan, extraEnv = {}) => runPlan(plan, { env: { ...env, ...extraEnv }, cwd: work }),
    bashEnvText: () => readFile(bashEnv, 'utf8'),
    calls: async () => (await readFile(log, 'utf8')).split('\n').filter((line) => line !== ''),
    cleanup: async () => {
      await dockerConfig.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Where the token must never be, with the form kinds found (never the forms): every step's raw stdout and
 * stderr, BASH_ENV, the argv of every docker and toolkit-ci call. Docker's config.json is the one intended
 * place and is not looked at here.
 */
export async function leaksOf(token: string, sandbox: Sandbox, results: JobResult[]): Promise<string[]> {
  const sinks = [
    ...results.flatMap((result, r) =>
      result.steps.flatMap((step, s) => [
        { name: `run ${r} step ${s} (${step.name}) stdout`, text: step.stdout },
        { name: `run ${r} step ${s} (${step.name}) stderr`, text: step.stderr },
      ]),
    ),
    { name: 'BASH_ENV', text: await sandbox.bashEnvText() },
    { name: 'argv of every docker and toolkit-ci call', text: (await sandbox.calls()).join('\n') },
  ];
  const forms = formsOf(token);
  return sinks.flatMap((sink) =>
    forms.flatMap((form, index) => (sink.text.includes(form) ? [`${sink.name}: form #${index}`] : [])),
  );
}
