/**
 * Runs the committed CLI bundle the way users run it (`node packages/cli/dist/index.js ...`), in a clean
 * environment: a temp HOME and DOCKER_CONFIG per run, PATH, and only the variables the test gives (so a CI
 * runner's own GITHUB_ENV or CIRCLECI never leaks into `--export auto`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectNoLeak } from '../../../test/support/leaks.js';
import { REPO_ROOT } from '../../../test/support/nodes.js';

export const CLI = join(REPO_ROOT, 'packages', 'cli', 'dist', 'index.js');

export interface RunCliOptions {
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed (stdin is closed empty otherwise). */
  stdin?: string;
  /** Node binary; default the machine's. */
  node?: string;
  cwd?: string;
  /** Kill after this long (default 20 s) and report timedOut. */
  timeoutMs?: number;
  /** Called once the process started, e.g. to read /proc or send a signal. */
  onSpawn?: (child: ChildProcess) => void;
  /** Called with stdout as it grows. */
  onStdout?: (soFar: string, child: ChildProcess) => void;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The temp HOME and DOCKER_CONFIG the run had (removed by cleanup()). */
  home: string;
  dockerConfig: string;
  cleanup(): Promise<void>;
}

/** Runs `toolkit-ci ...args`; never rejects on a non-zero exit. */
export async function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  const home = await mkdtemp(join(tmpdir(), 'toolkit-ci-home-'));
  const dockerConfig = join(home, '.docker-config');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    DOCKER_CONFIG: dockerConfig,
  };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const child = spawn(options.node ?? process.execPath, [CLI, ...args], {
    env,
    cwd: options.cwd ?? home,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    options.onStdout?.(stdout, child);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.on('error', () => {});
  child.stdin.end(options.stdin ?? '');
  options.onSpawn?.(child);
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 20_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  clearTimeout(timer);
  return {
    code,
    signal,
    stdout,
    stderr,
    timedOut,
    home,
    dockerConfig,
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
}

/** Collects temp dirs and results to remove in afterAll. */
export class Cleanup {
  readonly #tasks: (() => Promise<unknown>)[] = [];
  add<T extends { cleanup(): Promise<unknown> }>(item: T): T {
    this.#tasks.push(() => item.cleanup());
    return item;
  }
  async run(): Promise<void> {
    await Promise.all(this.#tasks.splice(0).map((task) => task()));
  }
}

/** Fails the test when any form of `token` is in the run's stdout or stderr. */
export function expectNoTokenInOutput(result: CliResult, token: string): void {
  expectNoLeak(token, [
    { name: 'stdout', text: result.stdout },
    { name: 'stderr', text: result.stderr },
  ]);
}
