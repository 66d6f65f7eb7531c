/**
 * runAction in a sealed box, for the leak, fault and bad-input suites: fresh HOME, TMPDIR and DOCKER_CONFIG
 * per run (so every file the run writes lands where it can be read back), a process sampler on the step's
 * processes, the Docker config as it stood between main and post, and every file written, read back.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type ProcessSampler, type SampledProcess, startProcessSampler } from './cmdline-sampler.js';
import type { DockerConfigFile } from './docker-config.js';
import { readFilesUnder, type ScannedFile, withoutEnvEntry } from './file-scan.js';
import { type PhaseResult, type RunActionOptions, type RunActionResult, runAction } from './runner.js';
import { type LeakSink, withoutMaskCommands } from './token-forms.js';

export interface IsolatedRunOptions extends RunActionOptions {
  /** config.json written before the run (e.g. an unrelated entry that must survive). */
  dockerConfig?: DockerConfigFile;
}

export interface IsolatedRun {
  result: RunActionResult;
  dirs: { root: string; home: string; tmp: string; dockerConfig: string; runner: string };
  /** config.json right after main (what later steps of the job would see), {} when absent. */
  dockerConfigAfterMain: DockerConfigFile;
  /** config.json after post, {} when absent. */
  dockerConfigAfterPost: DockerConfigFile;
  /** Raw text of config.json after main ('' when absent), for leak checks of the intended sink. */
  dockerConfigTextAfterMain: string;
  /** Every process of the run seen by the sampler (both phases' node processes and their children). */
  processes: SampledProcess[];
  /** Every file under the runner's dirs, HOME, TMPDIR and DOCKER_CONFIG after the run. */
  files: ScannedFile[];
  cleanup(): Promise<void>;
}

async function readConfig(dir: string): Promise<{ text: string; config: DockerConfigFile }> {
  try {
    const text = await readFile(join(dir, 'config.json'), 'utf8');
    return { text, config: JSON.parse(text) as DockerConfigFile };
  } catch {
    return { text: '', config: {} };
  }
}

/** Runs the action with a private HOME, TMPDIR and DOCKER_CONFIG, sampling its processes. */
export async function runActionIsolated(options: IsolatedRunOptions): Promise<IsolatedRun> {
  const root = await mkdtemp(join(tmpdir(), 'toolkit-ci-isolated-'));
  const dirs = {
    root,
    home: join(root, 'home'),
    tmp: join(root, 'tmp'),
    dockerConfig: join(root, 'docker-config'),
    runner: '',
  };
  await Promise.all([mkdir(dirs.home), mkdir(dirs.tmp), mkdir(dirs.dockerConfig)]);
  if (options.dockerConfig) {
    await writeFile(join(dirs.dockerConfig, 'config.json'), `${JSON.stringify(options.dockerConfig)}\n`, {
      mode: 0o600,
    });
  }
  const sampler: ProcessSampler = startProcessSampler();
  let afterMain = { text: '', config: {} as DockerConfigFile };
  let result: RunActionResult;
  try {
    result = await runAction({
      ...options,
      env: { HOME: dirs.home, TMPDIR: dirs.tmp, DOCKER_CONFIG: dirs.dockerConfig, ...options.env },
      onSpawn: (pid, phase) => {
        sampler.addRoot(pid);
        options.onSpawn?.(pid, phase);
      },
      betweenSteps: async (main: PhaseResult) => {
        afterMain = await readConfig(dirs.dockerConfig);
        await options.betweenSteps?.(main);
      },
    });
  } catch (error) {
    sampler.stop();
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  const processes = sampler.stop();
  dirs.runner = dirname(result.files.runnerTemp);
  const files = await readFilesUnder([
    { label: 'runner', dir: dirs.runner },
    { label: 'HOME', dir: dirs.home },
    { label: 'TMPDIR', dir: dirs.tmp },
    { label: 'DOCKER_CONFIG', dir: dirs.dockerConfig },
  ]);
  const afterPost = await readConfig(dirs.dockerConfig);
  return {
    result,
    dirs,
    dockerConfigAfterMain: afterMain.config,
    dockerConfigAfterPost: afterPost.config,
    dockerConfigTextAfterMain: afterMain.text,
    processes,
    files,
    cleanup: async () => {
      await result.cleanup();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** The registry hosts a Docker config holds credentials for, sorted. */
export function authHosts(config: DockerConfigFile): string[] {
  return Object.keys(config.auths ?? {}).sort();
}

/** The error annotations of a phase (what `core.setFailed` and `core.error` printed), as GitHub shows them. */
export function errorMessages(phase: PhaseResult | undefined): string[] {
  return (phase?.annotations ?? []).filter((a) => a.level === 'error').map((a) => a.message);
}

function phaseSinks(name: string, phase: PhaseResult | undefined): LeakSink[] {
  if (!phase) return [];
  return [
    { name: `${name} stdout (raw, without ::add-mask::)`, text: withoutMaskCommands(phase.stdout) },
    { name: `${name} stderr (raw)`, text: phase.stderr },
    { name: `${name} log (as shown)`, text: phase.log },
    {
      name: `${name} annotations (errors, warnings)`,
      text: phase.annotations.map((a) => a.message).join('\n'),
    },
  ];
}

/**
 * Every place an action run could leave the token, split in two: `sinks`, which must never hold it, and
 * `intended`, the two meant to (GITHUB_ENV's EAI_TOKEN entry, Docker's config.json after main). The
 * GITHUB_ENV files are scanned without their EAI_TOKEN entry, config.json is not scanned as a file.
 */
export function actionRunSinks(run: IsolatedRun): { sinks: LeakSink[]; intended: LeakSink[] } {
  const { result } = run;
  const { EAI_TOKEN: exportedToken, ...otherExports } = result.exportedEnv;
  const envFiles = new Set([result.main.files.env, result.post?.files.env]);
  const configFile = `${run.dirs.dockerConfig}/config.json`;
  const sinks: LeakSink[] = [
    ...phaseSinks('main', result.main),
    ...phaseSinks('post', result.post),
    { name: 'job summary', text: result.summary },
    { name: 'outputs', text: JSON.stringify(result.outputs) },
    { name: 'state', text: JSON.stringify(result.state) },
    { name: 'exported env except EAI_TOKEN', text: JSON.stringify(otherExports) },
    { name: 'command lines', text: run.processes.flatMap((p) => p.cmdlines).join('\n') },
    { name: "child processes' environments", text: run.processes.flatMap((p) => p.environs).join('\n') },
    { name: 'file names', text: run.files.map((f) => f.path).join('\n') },
    ...run.files
      .filter((file) => file.path !== configFile)
      .map((file) => ({
        name: `file ${file.name}${envFiles.has(file.path) ? ' (without its EAI_TOKEN entry)' : ''}`,
        text: envFiles.has(file.path) ? withoutEnvEntry(file.text, 'EAI_TOKEN') : file.text,
      })),
  ];
  const intended: LeakSink[] = [
    { name: "GITHUB_ENV's EAI_TOKEN entry", text: exportedToken ?? '' },
    { name: "Docker's config.json after main", text: run.dockerConfigTextAfterMain },
  ];
  return { sinks, intended };
}
