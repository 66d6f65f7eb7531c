/**
 * The leak suite's rows for the toolkit-ci CLI bundle (packages/cli/dist): `toolkit-ci login` as a CircleCI
 * step (token in EAI_TOKEN, `--export auto` appending to BASH_ENV) followed by `toolkit-ci logout` as the
 * job's clean-up step, and `toolkit-ci plugin` as a Drone step (token in PLUGIN_TOKEN, `docker_config: true`
 * keeping the credentials in the workspace) followed by a clean-up step that logs out of that folder.
 * Every run is sealed like runActionIsolated: fresh HOME, TMPDIR, DOCKER_CONFIG and CI files, its processes
 * sampled from /proc, and every file it wrote read back.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SampledProcess, startProcessSampler } from '../support/cmdline-sampler.js';
import { readFilesUnder } from '../support/file-scan.js';
import { REPO_ROOT } from '../support/nodes.js';
import type { LeakSink } from '../support/token-forms.js';
import type { EntryPoint, EntryPointRun, Scenario } from './entry-points.js';

const CLI = join(REPO_ROOT, 'packages', 'cli', 'dist', 'index.js');
/** Valid base64 of user:pass: an entry already in config.json that must survive and is not the run's. */
const UNRELATED_AUTH = {
  auths: { 'unrelated.example.com': { auth: Buffer.from('user:pass').toString('base64') } },
};

interface Step {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI bundle once with exactly `env`, its pid handed to the sampler as soon as it exists. */
function runStep(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  onSpawn: (pid: number) => void,
): Promise<Step> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) onSpawn(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function readOr(path: string, fallback = ''): Promise<string> {
  return readFile(path, 'utf8').catch(() => fallback);
}

function auths(text: string): string[] {
  try {
    return Object.keys((JSON.parse(text) as { auths?: object }).auths ?? {}).sort();
  } catch {
    return [];
  }
}

/** The `toolkit-ci: error: ...` messages of a step. */
function errorsOf(step: Step): string[] {
  return step.stderr
    .split('\n')
    .filter((line) => line.startsWith('toolkit-ci: error: '))
    .map((line) => line.slice('toolkit-ci: error: '.length));
}

/** `export NAME='...'` lines of a BASH_ENV file, split into the EAI_TOKEN line(s) and everything else. */
function splitBashEnv(text: string): { tokenLines: string; rest: string; exported: Record<string, string> } {
  const lines = text.split('\n').filter((line) => line !== '');
  const exported: Record<string, string> = {};
  for (const line of lines) {
    const match = /^export ([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
    if (match) exported[match[1] as string] = line.slice(match[0].length);
  }
  return {
    tokenLines: lines.filter((line) => line.startsWith('export EAI_TOKEN=')).join('\n'),
    rest: lines.filter((line) => !line.startsWith('export EAI_TOKEN=')).join('\n'),
    exported,
  };
}

function stepSinks(name: string, step: Step): LeakSink[] {
  return [
    { name: `${name} stdout (raw)`, text: step.stdout },
    { name: `${name} stderr (raw)`, text: step.stderr },
  ];
}

function processSinks(processes: SampledProcess[]): LeakSink[] {
  return [
    { name: 'command lines', text: processes.flatMap((p) => p.cmdlines).join('\n') },
    { name: "child processes' environments", text: processes.flatMap((p) => p.environs).join('\n') },
  ];
}

async function sealedDirs(): Promise<{
  root: string;
  home: string;
  tmp: string;
  dockerConfig: string;
  ci: string;
}> {
  const root = await mkdtemp(join(tmpdir(), 'toolkit-ci-leak-cli-'));
  const dirs = {
    root,
    home: join(root, 'home'),
    tmp: join(root, 'tmp'),
    dockerConfig: join(root, 'docker-config'),
    ci: join(root, 'ci'),
  };
  await Promise.all([mkdir(dirs.home), mkdir(dirs.tmp), mkdir(dirs.dockerConfig), mkdir(dirs.ci)]);
  await writeFile(join(dirs.dockerConfig, 'config.json'), `${JSON.stringify(UNRELATED_AUTH)}\n`, {
    mode: 0o600,
  });
  return dirs;
}

function baseEnv(
  dirs: { home: string; tmp: string; dockerConfig: string },
  scenario: Scenario,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dirs.home,
    TMPDIR: dirs.tmp,
    DOCKER_CONFIG: dirs.dockerConfig,
  };
  for (const [name, value] of Object.entries(scenario.env)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** `toolkit-ci login` in a CircleCI step, then `toolkit-ci logout` in the job's last step. */
export const cliLogin: EntryPoint = {
  name: 'toolkit-ci login + logout (CLI bundle, CircleCI BASH_ENV)',
  async run(scenario): Promise<EntryPointRun> {
    const dirs = await sealedDirs();
    const bashEnv = join(dirs.ci, 'bash_env');
    await writeFile(bashEnv, 'export CIRCLE_BRANCH=main\n');
    const sampler = startProcessSampler();
    const registryFlags = [
      '--registry',
      'both',
      '--registry-host',
      scenario.registries.regular,
      '--volatile-registry-host',
      scenario.registries.volatile,
    ];
    const env = {
      ...baseEnv(dirs, scenario),
      CIRCLECI: 'true',
      BASH_ENV: bashEnv,
      EAI_TOKEN: scenario.token,
    };
    const add = (pid: number) => sampler.addRoot(pid);
    let login: Step;
    let logout: Step;
    let configAfterLogin: string;
    try {
      login = await runStep(['login', ...registryFlags, '--api-url', scenario.apiUrl], env, dirs.home, add);
      configAfterLogin = await readOr(join(dirs.dockerConfig, 'config.json'));
      logout = await runStep(['logout', ...registryFlags], env, dirs.home, add);
    } catch (error) {
      sampler.stop();
      await rm(dirs.root, { recursive: true, force: true });
      throw error;
    }
    const processes = sampler.stop();
    const { tokenLines, rest, exported } = splitBashEnv(await readOr(bashEnv));
    const configFile = join(dirs.dockerConfig, 'config.json');
    const files = await readFilesUnder([
      { label: 'HOME', dir: dirs.home },
      { label: 'TMPDIR', dir: dirs.tmp },
      { label: 'DOCKER_CONFIG', dir: dirs.dockerConfig },
      { label: 'CI', dir: dirs.ci },
    ]);
    const { CIRCLE_BRANCH: _preexisting, ...newExports } = exported;
    return {
      exitCodes: `login=${login.code} logout=${logout.code}`,
      succeeded: login.code === 0 && logout.code === 0,
      cleanupOk: logout.code === 0,
      errors: [...errorsOf(login), ...errorsOf(logout)],
      sinks: [
        ...stepSinks('login', login),
        ...stepSinks('logout', logout),
        ...processSinks(processes),
        { name: 'file names', text: files.map((f) => f.path).join('\n') },
        { name: 'BASH_ENV without its EAI_TOKEN line', text: rest },
        // config.json is an intended sink only until the clean-up step: read after it, it must be clean.
        ...files
          .filter((file) => file.path !== bashEnv)
          .map((file) => ({
            name: `file ${file.name}${file.path === configFile ? ' after logout' : ''}`,
            text: file.text,
          })),
      ],
      intended: [
        { name: "BASH_ENV's EAI_TOKEN entry", text: tokenLines },
        { name: "Docker's config.json after login", text: configAfterLogin },
      ],
      processes,
      filesScanned: files.length,
      exported: newExports,
      credentialsLeft: auths(await readOr(configFile)).filter((host) => !(host in UNRELATED_AUTH.auths)),
      cleanup: () => rm(dirs.root, { recursive: true, force: true }),
    };
  },
};

/**
 * `toolkit-ci plugin` as a Drone step with `docker_config: true`, then a clean-up step that logs out of the
 * workspace folder. The plugin exports no variable (each step gets its secrets from the CI itself).
 */
export const dronePlugin: EntryPoint = {
  name: 'toolkit-ci plugin (Drone/Woodpecker, docker_config) + logout',
  async run(scenario): Promise<EntryPointRun> {
    const dirs = await sealedDirs();
    const workspace = join(dirs.ci, 'workspace');
    await mkdir(workspace);
    const folder = join(workspace, '.toolkit-docker');
    const sampler = startProcessSampler();
    const env = {
      ...baseEnv(dirs, scenario),
      DRONE: 'true',
      DRONE_WORKSPACE: workspace,
      PLUGIN_TOKEN: scenario.token,
      PLUGIN_API_URL: scenario.apiUrl,
      PLUGIN_REGISTRY: 'both',
      PLUGIN_REGISTRY_HOST: scenario.registries.regular,
      PLUGIN_VOLATILE_REGISTRY_HOST: scenario.registries.volatile,
      PLUGIN_DOCKER_CONFIG: 'true',
    };
    const add = (pid: number) => sampler.addRoot(pid);
    let step: Step;
    let cleanupStep: Step;
    let configAfterStep: string;
    try {
      step = await runStep(['plugin'], env, workspace, add);
      configAfterStep = await readOr(join(folder, 'config.json'));
      // The pipeline's last step (no token in it): remove the credentials the plugin kept.
      const { PLUGIN_TOKEN: _token, ...withoutToken } = env;
      cleanupStep = await runStep(
        [
          'logout',
          '--registry',
          'both',
          '--registry-host',
          scenario.registries.regular,
          '--volatile-registry-host',
          scenario.registries.volatile,
          '--docker-config',
          folder,
        ],
        Object.fromEntries(Object.entries(withoutToken).filter(([name]) => !name.startsWith('PLUGIN_'))),
        workspace,
        add,
      );
    } catch (error) {
      sampler.stop();
      await rm(dirs.root, { recursive: true, force: true });
      throw error;
    }
    const processes = sampler.stop();
    const configFile = join(folder, 'config.json');
    const files = await readFilesUnder([
      { label: 'HOME', dir: dirs.home },
      { label: 'TMPDIR', dir: dirs.tmp },
      { label: 'DOCKER_CONFIG', dir: dirs.dockerConfig },
      { label: 'CI', dir: dirs.ci },
    ]);
    return {
      exitCodes: `plugin=${step.code} logout=${cleanupStep.code}`,
      succeeded: step.code === 0 && cleanupStep.code === 0,
      cleanupOk: cleanupStep.code === 0,
      errors: [...errorsOf(step), ...errorsOf(cleanupStep)],
      sinks: [
        ...stepSinks('plugin', step),
        ...stepSinks('clean-up logout', cleanupStep),
        ...processSinks(processes),
        { name: 'file names', text: files.map((f) => f.path).join('\n') },
        ...files.map((file) => ({
          name: `file ${file.name}${file.path === configFile ? ' after logout' : ''}`,
          text: file.text,
        })),
      ],
      intended: [
        { name: "the workspace docker_config folder's config.json after the step", text: configAfterStep },
      ],
      exportsToken: false,
      processes,
      filesScanned: files.length,
      exported: {},
      credentialsLeft: auths(await readOr(configFile)),
      cleanup: () => rm(dirs.root, { recursive: true, force: true }),
    };
  },
};
