/**
 * A stand-in for the GitHub Actions runner running ONE step of a JavaScript action (main, then post), close
 * enough to actions/runner that a test can trust what it sees: the env the step gets (INPUT_*, GITHUB_*,
 * fresh file-command files per phase, STATE_* in post), the shown log (workflow commands interpreted, masks
 * applied) and the raw bytes the process printed (for leak checks).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseYaml } from 'yaml';
import {
  type Annotation,
  type OutputLine,
  parseCommandFileEntries,
  parsePathFile,
  SecretMasker,
  StepOutputInterpreter,
  type StreamName,
} from './workflow-commands.js';

export {
  type Annotation,
  type OutputLine,
  parseCommandFile,
  parseWorkflowCommands,
  SecretMasker,
} from './workflow-commands.js';

export type Phase = 'main' | 'post';

export interface RunActionOptions {
  /** Directory containing action.yml (or action.yaml). */
  action: string;
  /** The step's `with:` values. */
  with?: Record<string, string>;
  /** Extra environment (e.g. DOCKER_CONFIG, PATH); undefined removes a variable (e.g. HOME). */
  env?: Record<string, string | undefined>;
  /** Node binary; default process.execPath. */
  node?: string;
  /** Run the post step too (default: true when action.yml has runs.post). */
  post?: boolean;
  /** GITHUB_WORKSPACE and the step's cwd; default a fresh temp dir removed by cleanup(). */
  workDir?: string;
  /** Per phase, default 60000; the process group is killed and the phase reported as timedOut. */
  timeoutMs?: number;
  /** Called right after each phase's process started (its argv is final by then). */
  onSpawn?: (pid: number, phase: Phase) => void;
  /** Called for every output line as it arrives (e.g. to abort when the step is ready). */
  onOutput?: (line: OutputLine, phase: Phase) => void;
  /** Stands for the job's later steps: runs after main and before post (e.g. to inspect Docker's config). */
  betweenSteps?: (main: PhaseResult) => Promise<void> | void;
  /**
   * Cancels the workflow like the runner does: SIGINT to the step's process, SIGTERM after cancelGraceMs,
   * SIGKILL to its process group 2.5 s later. A post step whose post-if allows it still runs afterwards.
   */
  abortSignal?: AbortSignal;
  /** Default 7500 (the runner's delay between SIGINT and SIGTERM). */
  cancelGraceMs?: number;
  /** Also mask the encoded forms the runner's value encoders add (base64, JSON, URI, XML …); default false. */
  valueEncoders?: boolean;
  /** Keep the temp dirs after cleanup() (for debugging a failing test). */
  keep?: boolean;
}

export interface PhaseFiles {
  env: string;
  output: string;
  state: string;
  summary: string;
  path: string;
}

export interface PhaseResult {
  exitCode: number | null;
  signal: string | null;
  /** Raw output as text, before masking: exactly what the process printed. */
  stdout: string;
  stderr: string;
  /** What GitHub would show (commands interpreted, masks applied, '▶ Title' for groups, 'Error: msg' …). */
  log: string;
  /** The shown log, one entry per line. */
  lines: string[];
  /** Values registered with ::add-mask:: in this phase. */
  masks: string[];
  annotations: Annotation[];
  groups: string[];
  /** Non-zero exit, killed, or a command / file command the runner could not process. */
  failed: boolean;
  timedOut: boolean;
  cancelled: boolean;
  /** What this phase wrote through its own file-command files (and legacy commands). */
  outputs: Record<string, string>;
  exportedEnv: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  path: string[];
  files: PhaseFiles;
  /** The exact environment the process got. */
  processEnv: Record<string, string>;
}

export interface RunActionResult {
  main: PhaseResult;
  post?: PhaseResult;
  /** True when the action has a post step but its post-if (or options.post=false) skipped it. */
  postSkipped: boolean;
  /** Outputs of the step (main phase: GITHUB_OUTPUT, plus legacy ::set-output::). */
  outputs: Record<string, string>;
  /** GITHUB_ENV of main then post (a later value wins). */
  exportedEnv: Record<string, string>;
  /** What main saved for post (GITHUB_STATE plus legacy ::save-state::). */
  state: Record<string, string>;
  /** GITHUB_STEP_SUMMARY of main followed by post's. */
  summary: string;
  /** GITHUB_PATH additions of main then post. */
  path: string[];
  /** The main phase's file-command files (post's are in post.files), plus the dirs. */
  files: PhaseFiles & { workDir: string; runnerTemp: string };
  cleanup(): Promise<void>;
}

export interface ActionInput {
  name: string;
  default?: string;
  required: boolean;
}

export interface ActionManifest {
  name: string;
  using: 'node20' | 'node24';
  main: string;
  post?: string;
  postIf: string;
  pre?: string;
  inputs: ActionInput[];
  outputs: string[];
}

const SUPPORTED_RUNTIMES = ['node20', 'node24'] as const;
const SUMMARY_LIMIT = 128 * 1024;
const FORCE_KILL_AFTER_SIGTERM_MS = 2500;

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Reads and validates action.yml like the runner: a node20/node24 JavaScript action. */
export async function readActionManifest(actionDir: string): Promise<ActionManifest> {
  const file = ['action.yml', 'action.yaml'].map((f) => join(actionDir, f)).find((f) => existsSync(f));
  if (!file) throw new Error(`No action.yml or action.yaml in ${actionDir}`);
  const doc = asRecord(parseYaml(await readFile(file, 'utf8')));
  const runs = asRecord(doc.runs);
  const using = String(runs.using ?? '');
  if (!(SUPPORTED_RUNTIMES as readonly string[]).includes(using)) {
    throw new Error(
      `${file}: runs.using '${using}' is not supported by this harness (expected ${SUPPORTED_RUNTIMES.join(' or ')})`,
    );
  }
  if (typeof runs.main !== 'string' || runs.main === '') throw new Error(`${file}: runs.main is required`);
  const inputs = Object.entries(asRecord(doc.inputs)).map(([name, spec]) => {
    const s = asRecord(spec);
    // YAML scalars such as `default: true` reach the action as their string form, as in the runner.
    const input: ActionInput = { name, required: s.required === true || s.required === 'true' };
    if (s.default !== undefined && s.default !== null) input.default = String(s.default);
    return input;
  });
  return {
    name: typeof doc.name === 'string' ? doc.name : actionDir,
    using: using as ActionManifest['using'],
    main: runs.main,
    post: typeof runs.post === 'string' && runs.post !== '' ? runs.post : undefined,
    postIf: typeof runs['post-if'] === 'string' ? runs['post-if'] : 'always()',
    pre: typeof runs.pre === 'string' && runs.pre !== '' ? runs.pre : undefined,
    inputs,
    outputs: Object.keys(asRecord(doc.outputs)),
  };
}

/** The runner's env name for an input: spaces become '_', upper-cased, dashes kept (INPUT_API-URL). */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

/** INPUT_* for every declared input (with value, else default, else '') and for undeclared `with` keys. */
export function inputEnvironment(
  inputs: ActionInput[],
  withValues: Record<string, string> = {},
): { env: Record<string, string>; unexpected: string[] } {
  const env: Record<string, string> = {};
  const declared = new Set(inputs.map((i) => i.name.toLowerCase()));
  const given = new Map(Object.entries(withValues).map(([k, v]) => [k.toLowerCase(), v]));
  for (const input of inputs)
    env[inputEnvName(input.name)] = given.get(input.name.toLowerCase()) ?? input.default ?? '';
  const unexpected = Object.keys(withValues).filter((k) => !declared.has(k.toLowerCase()));
  for (const key of unexpected) env[inputEnvName(key)] = withValues[key] ?? '';
  return { env, unexpected };
}

export type JobStatus = 'success' | 'failure' | 'cancelled';

/**
 * Evaluates a post-if condition: always(), success(), failure(), cancelled(), each optionally negated,
 * joined by && or || (no parentheses), optionally wrapped in ${{ }}. Anything else is refused.
 */
export function evaluatePostIf(expression: string, status: JobStatus): boolean {
  const text = expression
    .trim()
    .replace(/^\$\{\{([\s\S]*)\}\}$/, '$1')
    .trim();
  const term = (t: string): boolean => {
    const m = /^(!?)\s*(always|success|failure|cancelled)\(\s*\)$/.exec(t.trim());
    if (!m) throw new Error(`post-if '${expression}' is not supported by this harness`);
    const value = m[2] === 'always' || m[2] === status;
    return m[1] === '!' ? !value : value;
  };
  return text.split('||').some((alt) => alt.split('&&').every(term));
}

function isDebug(env: Record<string, string | undefined>): boolean {
  return env.ACTIONS_STEP_DEBUG?.toLowerCase() === 'true' || env.RUNNER_DEBUG === '1';
}

function applyLayers(layers: Record<string, string | undefined>[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
  }
  return env;
}

// Plausible values for what the runner puts in every step's environment.
function runnerDefaults(dirs: {
  workspace: string;
  runnerTemp: string;
  root: string;
}): Record<string, string> {
  const sha = '0123456789abcdef0123456789abcdef01234567';
  return {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTION: '__toolkit-ci_harness',
    GITHUB_ACTION_REF: '',
    GITHUB_ACTION_REPOSITORY: '',
    GITHUB_ACTOR: 'octocat',
    GITHUB_ACTOR_ID: '583231',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_BASE_REF: '',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: join(dirs.root, 'event.json'),
    GITHUB_GRAPHQL_URL: 'https://api.github.com/graphql',
    GITHUB_HEAD_REF: '',
    GITHUB_JOB: 'test',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_REF_PROTECTED: 'false',
    GITHUB_REF_TYPE: 'branch',
    GITHUB_REPOSITORY: 'acme/toolkit-ci-harness',
    GITHUB_REPOSITORY_ID: '123456789',
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_REPOSITORY_OWNER_ID: '987654',
    GITHUB_RETENTION_DAYS: '90',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_RUN_ID: '1234567890',
    GITHUB_RUN_NUMBER: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_SHA: sha,
    GITHUB_TRIGGERING_ACTOR: 'octocat',
    GITHUB_WORKFLOW: 'CI',
    GITHUB_WORKFLOW_REF: `acme/toolkit-ci-harness/.github/workflows/ci.yml@refs/heads/main`,
    GITHUB_WORKFLOW_SHA: sha,
    GITHUB_WORKSPACE: dirs.workspace,
    RUNNER_ARCH: 'X64',
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_NAME: 'GitHub Actions 1',
    RUNNER_OS: 'Linux',
    RUNNER_TEMP: dirs.runnerTemp,
    RUNNER_TOOL_CACHE: join(dirs.root, 'tool-cache'),
    RUNNER_WORKSPACE: dirname(dirs.workspace),
  };
}

/** The runner prepends GITHUB_PATH entries, the latest first, each entry once. */
function prependPath(additions: string[], path: string | undefined): string {
  const unique: string[] = [];
  for (const entry of additions) {
    const at = unique.indexOf(entry);
    if (at >= 0) unique.splice(at, 1);
    unique.push(entry);
  }
  const parts = [...unique.reverse()];
  if (path) parts.push(path);
  return parts.join(':');
}

/** Splits a byte stream into lines as the runner's reader does, holding a trailing '\r' for a possible '\n'. */
class LineAssembler {
  private buffer = '';
  private readonly decoder = new StringDecoder('utf8');
  raw = '';

  constructor(private readonly emit: (text: string) => void) {}

  push(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    this.raw += text;
    this.buffer += text;
    this.drain();
  }

  end(): void {
    const rest = this.decoder.end();
    this.raw += rest;
    this.buffer += rest;
    this.drain();
    if (this.buffer.endsWith('\r')) this.buffer = this.buffer.slice(0, -1);
    if (this.buffer !== '') this.emit(this.buffer);
    this.buffer = '';
  }

  private drain(): void {
    for (let m = /\r\n|\r|\n/.exec(this.buffer); m; m = /\r\n|\r|\n/.exec(this.buffer)) {
      if (m[0] === '\r' && m.index === this.buffer.length - 1) return;
      this.emit(this.buffer.slice(0, m.index));
      this.buffer = this.buffer.slice(m.index + m[0].length);
    }
  }
}

interface ProcessOutcome {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  lines: OutputLine[];
  timedOut: boolean;
  cancelled: boolean;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function runProcess(params: {
  phase: Phase;
  node: string;
  script: string;
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
  cancelGraceMs: number;
  abortSignal?: AbortSignal;
  onSpawn?: RunActionOptions['onSpawn'];
  onOutput?: RunActionOptions['onOutput'];
}): Promise<ProcessOutcome> {
  return new Promise((resolvePromise, reject) => {
    // stdin closed like the runner; own process group so a timeout can kill whatever the step started.
    const child = spawn(params.node, [params.script], {
      cwd: params.cwd,
      env: params.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const lines: OutputLine[] = [];
    const assembler = (stream: StreamName) =>
      new LineAssembler((text) => {
        const line = { stream, text };
        lines.push(line);
        params.onOutput?.(line, params.phase);
      });
    const out = assembler('stdout');
    const err = assembler('stderr');
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));

    let timedOut = false;
    let cancelled = false;
    const timers: NodeJS.Timeout[] = [];
    const pid = child.pid;
    timers.push(
      setTimeout(() => {
        timedOut = true;
        if (pid !== undefined) killGroup(pid, 'SIGKILL');
      }, params.timeoutMs),
    );
    const cancel = () => {
      if (cancelled || pid === undefined) return;
      cancelled = true;
      child.kill('SIGINT');
      timers.push(
        setTimeout(() => {
          child.kill('SIGTERM');
          timers.push(setTimeout(() => killGroup(pid, 'SIGKILL'), FORCE_KILL_AFTER_SIGTERM_MS));
        }, params.cancelGraceMs),
      );
    };
    params.abortSignal?.addEventListener('abort', cancel);

    child.on('error', (error) => {
      for (const t of timers) clearTimeout(t);
      params.abortSignal?.removeEventListener('abort', cancel);
      reject(
        new Error(`Could not start ${params.node} ${params.script}: ${error.message}`, { cause: error }),
      );
    });
    child.on('spawn', () => {
      if (pid !== undefined) params.onSpawn?.(pid, params.phase);
      if (params.abortSignal?.aborted) cancel();
    });
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      params.abortSignal?.removeEventListener('abort', cancel);
      out.end();
      err.end();
      resolvePromise({
        exitCode: code,
        signal,
        stdout: out.raw,
        stderr: err.raw,
        lines,
        timedOut,
        cancelled,
      });
    });
  });
}

async function createPhaseFiles(dir: string): Promise<PhaseFiles> {
  await mkdir(dir, { recursive: true });
  const files: PhaseFiles = {
    env: join(dir, 'set_env'),
    output: join(dir, 'set_output'),
    state: join(dir, 'save_state'),
    summary: join(dir, 'step_summary'),
    path: join(dir, 'add_path'),
  };
  await Promise.all(Object.values(files).map((f) => writeFile(f, '')));
  return files;
}

interface FileCommandResults {
  outputs: Record<string, string>;
  exportedEnv: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  path: string[];
}

// After the process exits the runner reads each file; a malformed file fails the step.
async function processFileCommands(
  files: PhaseFiles,
  interpreter: StepOutputInterpreter,
): Promise<FileCommandResults> {
  const result: FileCommandResults = { outputs: {}, exportedEnv: {}, state: {}, summary: '', path: [] };
  const guarded = async (contextName: string, work: (text: string) => void, file: string) => {
    try {
      work(await readFile(file, 'utf8'));
    } catch (error) {
      interpreter.runnerIssue('error', `Unable to process file command '${contextName}' successfully.`);
      interpreter.runnerIssue('error', (error as Error).message);
      interpreter.markFailed();
    }
  };
  await guarded('path', (text) => result.path.push(...parsePathFile(text)), files.path);
  await guarded(
    'env',
    (text) => {
      parseCommandFileEntries(text, (name, value) => {
        if (name.toUpperCase() === 'NODE_OPTIONS') {
          interpreter.runnerIssue(
            'error',
            "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.",
          );
          return;
        }
        result.exportedEnv[name] = value;
        interpreter.runnerDebug(`${name}='${value}'`);
      });
    },
    files.env,
  );
  const summarySize = (await stat(files.summary)).size;
  if (summarySize > SUMMARY_LIMIT) {
    interpreter.runnerIssue(
      'error',
      `$GITHUB_STEP_SUMMARY supports content up a size of ${SUMMARY_LIMIT / 1024}k got ${Math.floor(summarySize / 1024)}k`,
    );
  }
  result.summary = await readFile(files.summary, 'utf8');
  await guarded(
    'state',
    (text) => {
      parseCommandFileEntries(text, (name, value) => {
        result.state[name] = value;
        interpreter.runnerDebug(`Save intra-action state ${name} = ${value}`);
      });
    },
    files.state,
  );
  await guarded(
    'output',
    (text) => {
      parseCommandFileEntries(text, (name, value) => {
        result.outputs[name] = value;
        interpreter.runnerDebug(`Set output ${name} = ${value}`);
      });
    },
    files.output,
  );
  return result;
}

interface PhaseContext {
  options: RunActionOptions;
  actionDir: string;
  manifest: ActionManifest;
  root: string;
  workspace: string;
  runnerTemp: string;
  inputEnv: Record<string, string>;
  masker: SecretMasker;
  debug: boolean;
}

async function runPhase(
  ctx: PhaseContext,
  phase: Phase,
  extra: {
    exportedEnv: Record<string, string>;
    pathAdditions: string[];
    state: Record<string, string>;
    preface?: (interpreter: StepOutputInterpreter) => void;
  },
): Promise<PhaseResult> {
  const { options } = ctx;
  const userEnv = options.env ?? {};
  const files = await createPhaseFiles(join(ctx.runnerTemp, '_runner_file_commands', phase));
  const script = resolve(ctx.actionDir, phase === 'main' ? ctx.manifest.main : (ctx.manifest.post as string));
  if (!existsSync(script)) throw new Error(`runs.${phase} file not found: ${script}`);

  // Layering follows the runner: step env over job env (GITHUB_ENV exports), inputs over both, and the
  // runner's own file-command paths and STATE_* last. Unlike the runner, options.env may replace the
  // plausible GITHUB_* defaults (a test may need another server URL).
  const env = applyLayers([
    { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME },
    runnerDefaults(ctx),
    extra.exportedEnv,
    userEnv,
    ctx.debug ? { RUNNER_DEBUG: '1' } : {},
    ctx.inputEnv,
    {
      GITHUB_ACTION_PATH: ctx.actionDir,
      GITHUB_ENV: files.env,
      GITHUB_OUTPUT: files.output,
      GITHUB_STATE: files.state,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_PATH: files.path,
    },
    Object.fromEntries(Object.entries(extra.state).map(([k, v]) => [`STATE_${k}`, v])),
  ]);
  if (extra.pathAdditions.length > 0) env.PATH = prependPath(extra.pathAdditions, env.PATH);
  // The runner removes it so the action's node does not pick up the runner's ICU data.
  delete env.NODE_ICU_DATA;

  const interpreter = new StepOutputInterpreter({
    masker: ctx.masker,
    debug: ctx.debug,
    allowUnsecureCommands: env.ACTIONS_ALLOW_UNSECURE_COMMANDS?.toLowerCase() === 'true',
  });
  extra.preface?.(interpreter);
  const outcome = await runProcess({
    phase,
    node: options.node ?? process.execPath,
    script,
    env,
    cwd: ctx.workspace,
    timeoutMs: options.timeoutMs ?? 60000,
    cancelGraceMs: options.cancelGraceMs ?? 7500,
    // A post step runs after a cancellation (post-if permitting); only a phase that is running is cancelled.
    abortSignal: phase === 'post' && options.abortSignal?.aborted ? undefined : options.abortSignal,
    onSpawn: options.onSpawn,
    onOutput: options.onOutput,
  });
  for (const line of outcome.lines) interpreter.line(line);
  if (outcome.timedOut) {
    interpreter.runnerIssue(
      'error',
      `The action has timed out (harness timeout ${options.timeoutMs ?? 60000} ms).`,
    );
  }
  if (outcome.cancelled) interpreter.runnerIssue('error', 'The operation was canceled.');
  const fileResults = await processFileCommands(files, interpreter);
  interpreter.runnerDebug(`Node Action run completed with exit code ${outcome.exitCode}`);
  const shown = interpreter.result();
  return {
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    log: shown.log,
    lines: shown.lines,
    masks: shown.masks,
    annotations: shown.annotations,
    groups: shown.groups,
    failed: outcome.exitCode !== 0 || shown.commandFailed,
    timedOut: outcome.timedOut,
    cancelled: outcome.cancelled,
    // Legacy commands come first: the runner reads the files after the process exited.
    outputs: { ...shown.outputs, ...fileResults.outputs },
    exportedEnv: { ...shown.env, ...fileResults.exportedEnv },
    state: { ...shown.state, ...fileResults.state },
    summary: fileResults.summary,
    path: [...shown.path, ...fileResults.path],
    files,
    processEnv: env,
  };
}

/** Runs one step of a JavaScript action (main, then post per post-if) the way the GitHub runner does. */
export async function runAction(options: RunActionOptions): Promise<RunActionResult> {
  const actionDir = resolve(options.action);
  const manifest = await readActionManifest(actionDir);
  if (manifest.pre) throw new Error(`${actionDir}: runs.pre is not supported by this harness`);
  const root = await mkdtemp(join(tmpdir(), 'toolkit-ci-runner-'));
  const cleanup = async () => {
    if (!options.keep) await rm(root, { recursive: true, force: true });
  };
  try {
    const workspace = options.workDir ? resolve(options.workDir) : join(root, 'workspace');
    const runnerTemp = join(root, 'runner-temp');
    await mkdir(workspace, { recursive: true });
    await mkdir(runnerTemp, { recursive: true });
    await mkdir(join(root, 'tool-cache'), { recursive: true });
    await writeFile(join(root, 'event.json'), '{}\n');

    const { env: inputEnv, unexpected } = inputEnvironment(manifest.inputs, options.with);
    const ctx: PhaseContext = {
      options,
      actionDir,
      manifest,
      root,
      workspace,
      runnerTemp,
      inputEnv,
      // One masker for the whole job: a mask registered in main still applies to post's log.
      masker: new SecretMasker({ valueEncoders: options.valueEncoders }),
      debug: isDebug(options.env ?? {}),
    };
    const main = await runPhase(ctx, 'main', {
      exportedEnv: {},
      pathAdditions: [],
      state: {},
      preface: (interpreter) => {
        if (unexpected.length === 0) return;
        const quote = (s: string) => `'${s}'`;
        interpreter.runnerIssue(
          'warning',
          `Unexpected input(s) ${unexpected.map(quote).join(', ')}, valid inputs are [${manifest.inputs
            .map((i) => quote(i.name))
            .join(', ')}]`,
        );
      },
    });

    await options.betweenSteps?.(main);
    let post: PhaseResult | undefined;
    let postSkipped = false;
    if (manifest.post && options.post !== false) {
      const status: JobStatus = main.cancelled ? 'cancelled' : main.failed ? 'failure' : 'success';
      if (evaluatePostIf(manifest.postIf, status)) {
        post = await runPhase(ctx, 'post', {
          exportedEnv: main.exportedEnv,
          pathAdditions: main.path,
          state: main.state,
        });
      } else {
        postSkipped = true;
      }
    } else if (manifest.post) {
      postSkipped = true;
    }

    return {
      main,
      post,
      postSkipped,
      outputs: main.outputs,
      exportedEnv: { ...main.exportedEnv, ...(post?.exportedEnv ?? {}) },
      state: main.state,
      summary: main.summary + (post?.summary ?? ''),
      path: [...main.path, ...(post?.path ?? [])],
      files: { ...main.files, workDir: workspace, runnerTemp },
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
