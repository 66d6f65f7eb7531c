/**
 * Toolkit jobs: submit, get, log, cancel, and follow one to its end. What Toolkit's own 2020 action got wrong
 * is the spec here: the poll delay starts short and is capped, the log is streamed as it grows (each line
 * once, none lost across runs), a restartable job's INTERRUPTED is not the end, transient errors while
 * polling do not lose the job, a timeout is enforced, and cancellation is one call away.
 *
 * Stable API (the action and the CLI both import it):
 * - types `JobSpec`, `JobResources`, `Job`, `JobRun`, `JobState`, `FollowOptions`, `LogRunInfo`, `JobOutcome`,
 *   `PollPolicy`, `JobClientDeps`, `JobClientOptions`
 * - `new JobClient(client, {deps?, poll?})` with `submitJob(spec, {account?})`, `getJob(id)`, `jobLog(id, runId?)`,
 *   `cancelJob(id)`, `followJob(id, {onLog, onState, onPollError, timeoutMs, signal, logs})`,
 *   `cancelAndWait(id, {timeoutMs, signal})`; every call also takes `{signal}`
 * - `jobOutcome(job)`, `assertJobSucceeded(job)`, `isJobDone(job)`, `lastRun(job)`, `jobUrl(apiUrl, id)`
 * - `JobTimeoutError` (kind 'job-failed', `.job` = last seen), `DEFAULT_POLL_POLICY`, `FINAL_STATES`
 */
import { ToolkitApiError, type ToolkitClient } from './client.js';
import { ToolkitCiError } from './errors.js';
import { formatDuration } from './job-spec.js';
import { realRetryDeps } from './retry.js';

export type JobState =
  | 'QUEUING'
  | 'QUEUED'
  | 'RUNNING'
  | 'CANCELLING'
  | 'CANCELLED'
  | 'INTERRUPTED'
  | 'FAILED'
  | 'SUCCEEDED';

/** States after which a job does not run again (INTERRUPTED only when the job is not restartable). */
export const FINAL_STATES: readonly JobState[] = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED'];

export interface JobResources {
  cpu?: number;
  /** GB. */
  mem?: number;
  gpu?: number;
  /** GB. */
  gpuMem?: number;
  gpuModel?: string;
  cpuModel?: string;
  gpuTensorCores?: boolean;
  cudaVersion?: string | number;
  inference?: boolean;
}

/** The request body of a submit (Toolkit's JSON names). */
export interface JobSpec {
  image: string;
  command?: string[];
  /** `NAME=VALUE` items; values may be secrets: print `redactJobSpec(spec)`, never the spec. */
  environmentVars?: string[];
  /** `<data>[@version][/sub]:/mount[:ro|rw]` items. */
  data?: string[];
  workdir?: string;
  /** ^[a-z0-9_]+$ */
  name?: string;
  role?: string;
  tags?: { key: string; value: string }[];
  resources?: JobResources;
  preemptable?: boolean;
  restartable?: boolean;
  interactive?: boolean;
  bid?: number;
  /** Seconds. */
  maxRunTime?: number;
  options?: Record<string, unknown>;
}

export interface JobRun {
  id: string;
  jobId?: string;
  state: JobState;
  exitCode?: number | null;
  createdOn?: string;
  queuedOn?: string | null;
  startedOn?: string | null;
  endedOn?: string | null;
  cancelRequestedOn?: string | null;
  nodeName?: string | null;
  ip?: string | null;
  info?: string;
}

/** A job as the API answers it; only `id` and `state` are relied on, everything else is optional. */
export interface Job {
  id: string;
  name?: string;
  fullName?: string;
  urn?: string;
  accessUrl?: string;
  alive?: boolean;
  state: JobState;
  stateInfo?: string;
  runs?: JobRun[];
  jobspec?: JobSpec;
  account?: string;
  organization?: string;
  creator?: string;
  created?: string;
  updatedOn?: string;
  /** Seconds spent running, all runs together. */
  totalRuntime?: number;
  resourceUsageUrl?: string;
  [k: string]: unknown;
}

/** How followJob paces itself: the delay starts at `initialDelayMs`, doubles after each quiet poll up to `maxDelayMs`. */
export interface PollPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** Polling gives up after failing (after the client's own retries) for this long in a row. */
  maxErrorMs: number;
}

/** 1 s doubling to 15 s; back to 1 s whenever the job shows progress (a new state or new log lines). */
export const DEFAULT_POLL_POLICY: PollPolicy = Object.freeze({
  initialDelayMs: 1_000,
  maxDelayMs: 15_000,
  maxErrorMs: 5 * 60_000,
});

export interface JobClientDeps {
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  now(): number;
}

export interface JobClientOptions {
  /** Injectable sleep and clock: tests poll without waiting in real time. */
  deps?: Partial<JobClientDeps>;
  poll?: Partial<PollPolicy>;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** Which run a log line belongs to: `index` is 1-based, in the order of `job.runs`. */
export interface LogRunInfo {
  id: string;
  index: number;
}

export interface FollowOptions {
  /** Called with each new complete log line (without its newline), in order, each line once. */
  onLog?: (line: string, run: LogRunInfo) => void;
  /**
   * Called once per state change (the first state seen included), with the job as it was seen. A state that
   * ends a run (SUCCEEDED, FAILED, CANCELLED, INTERRUPTED) comes after the run's last log lines.
   */
  onState?: (job: Job, previous: JobState | undefined) => void;
  /** Called when a poll fails transiently and polling goes on. */
  onPollError?: (error: unknown) => void;
  /** Give up (JobTimeoutError) after this long; the job is NOT cancelled: callers decide (see cancelAndWait). */
  timeoutMs?: number;
  /** Stops following: the promise rejects with the signal's reason. The job is not cancelled. */
  signal?: AbortSignal;
  /** Fetch and stream the log (default true). */
  logs?: boolean;
}

/** followJob ran out of time: `job` is the last state seen (still alive). */
export class JobTimeoutError extends ToolkitCiError {
  readonly job: Job;
  constructor(job: Job, timeoutMs: number) {
    super(
      'job-failed',
      `job ${jobLabel(job)} did not end within ${timeoutMs < 1000 ? `${timeoutMs} ms` : formatDuration(timeoutMs / 1000)} (state ${job.state})`,
    );
    this.name = 'JobTimeoutError';
    this.job = job;
  }
}

/** Submits, reads, follows and cancels Toolkit jobs through a ToolkitClient (retries and timeouts are its). */
export class JobClient {
  readonly #client: ToolkitClient;
  readonly #deps: JobClientDeps;
  readonly #poll: PollPolicy;

  constructor(client: ToolkitClient, options: JobClientOptions = {}) {
    this.#client = client;
    this.#deps = {
      sleep: options.deps?.sleep ?? realRetryDeps.sleep,
      now: options.deps?.now ?? realRetryDeps.now,
    };
    this.#poll = { ...DEFAULT_POLL_POLICY, ...definedOnly(options.poll ?? {}) };
  }

  /**
   * POST /v1/job (or /v1/account/{account}/job): answers the new Job. Not retried unless the server surely
   * did not process it (a retried submit could start the job twice).
   */
  async submitJob(spec: JobSpec, options: { account?: string } & CallOptions = {}): Promise<Job> {
    const account = options.account?.trim();
    const path = account ? `/v1/account/${encodeURIComponent(account)}/job` : '/v1/job';
    const call = account ? 'POST /v1/account/{account}/job' : 'POST /v1/job';
    const { status, body } = await this.#client.request<unknown>('POST', path, spec, {
      call,
      signal: options.signal,
    });
    return asJob(body, call, status);
  }

  /** GET /v1/job/{id} ({id} may be a full name org.account.name). */
  async getJob(id: string, options: CallOptions = {}): Promise<Job> {
    const { status, body } = await this.#client.request<unknown>('GET', `/v1/job/${segment(id)}`, undefined, {
      call: 'GET /v1/job/{id}',
      signal: options.signal,
    });
    return asJob(body, 'GET /v1/job/{id}', status);
  }

  /** GET /v1/job/{id}/logs[/{runId}]: the whole log text so far; '' when there is none yet (204). */
  async jobLog(id: string, runId?: string, options: CallOptions = {}): Promise<string> {
    const path = `/v1/job/${segment(id)}/logs${runId ? `/${segment(runId)}` : ''}`;
    const { body } = await this.#client.request<string | undefined>('GET', path, undefined, {
      call: runId ? 'GET /v1/job/{id}/logs/{runId}' : 'GET /v1/job/{id}/logs',
      accept: 'text',
      signal: options.signal,
    });
    return typeof body === 'string' ? body : '';
  }

  /** DELETE /v1/job/{id}: asks Toolkit to cancel (CANCELLING, then CANCELLED); answers the job. Idempotent. */
  async cancelJob(id: string, options: CallOptions = {}): Promise<Job> {
    const { status, body } = await this.#client.request<unknown>(
      'DELETE',
      `/v1/job/${segment(id)}`,
      undefined,
      {
        call: 'DELETE /v1/job/{id}',
        signal: options.signal,
      },
    );
    return asJob(body, 'DELETE /v1/job/{id}', status);
  }

  /**
   * Cancels the job and polls (without logs) until it is no longer alive or `timeoutMs` (default 60 s) passes;
   * answers the last job seen. For a timeout or an aborted workflow: the job must not run on unwatched.
   */
  async cancelAndWait(id: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Job> {
    let job = await this.cancelJob(id, options);
    if (isJobDone(job)) return job;
    try {
      job = await this.followJob(id, {
        logs: false,
        timeoutMs: options.timeoutMs ?? 60_000,
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof JobTimeoutError) return error.job;
      throw error;
    }
    return job;
  }

  /**
   * Polls the job until it is no longer alive and answers the final Job. Streams new log lines through
   * `onLog` (the log endpoint answers the whole text: only what was not printed yet is passed on, complete
   * lines only until the run ends), reports each state change once through `onState`, and keeps polling
   * through transient failures (network, 5xx, 429) for up to `poll.maxErrorMs` in a row.
   * Throws JobTimeoutError after `timeoutMs`, the signal's reason when aborted, and any other API error.
   */
  async followJob(id: string, options: FollowOptions = {}): Promise<Job> {
    const { onState, onPollError, signal, timeoutMs } = options;
    const streamLogs = options.logs !== false;
    const { sleep, now } = this.#deps;
    const startedAt = now();
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : startedAt + timeoutMs;
    const log = new LogCursor(options.onLog);
    let delay = this.#poll.initialDelayMs;
    let lastState: JobState | undefined;
    let lastJob: Job | undefined;
    let failingSince: number | undefined;

    for (;;) {
      throwIfAborted(signal);
      let progressed = false;
      try {
        const job = await this.getJob(id, { signal });
        lastJob = job;
        // A state that ends a run is reported after that run's last lines; any other before the lines it brings.
        const changed = job.state !== lastState;
        const endsRun = FINAL_STATES.includes(job.state);
        const report = () => {
          onState?.(job, lastState);
          lastState = job.state;
          progressed = true;
        };
        if (changed && !endsRun) report();
        // The job is read before its log, so once it is seen ended, the log read next is complete.
        if (streamLogs && (await this.#pumpLogs(job, log, signal))) progressed = true;
        if (changed && endsRun) report();
        failingSince = undefined;
        if (isJobDone(job)) return job;
      } catch (error) {
        throwIfAborted(signal);
        if (!isTransient(error)) throw error;
        failingSince ??= now();
        if (now() - failingSince >= this.#poll.maxErrorMs) throw error;
        onPollError?.(error);
      }
      const remaining = deadline - now();
      if (remaining <= 0) throw new JobTimeoutError(lastJob ?? pendingJob(id), timeoutMs ?? 0);
      delay = progressed ? this.#poll.initialDelayMs : delay;
      await sleep(Math.min(delay, remaining), signal).catch((error: unknown) => {
        throwIfAborted(signal);
        throw error;
      });
      if (!progressed) delay = Math.min(delay * 2, this.#poll.maxDelayMs);
    }
  }

  /** Passes on what is new in the job's runs' logs; true when any line was printed. */
  async #pumpLogs(job: Job, log: LogCursor, signal?: AbortSignal): Promise<boolean> {
    const runs = job.runs ?? [];
    if (runs.length === 0) {
      // No run ids: fall back to the current run's log.
      return log.feed(
        { id: '', index: 1 },
        await this.jobLog(job.id, undefined, { signal }),
        !isJobDone(job),
      );
    }
    let printed = false;
    // Earlier runs that were still being printed are finished first (a restartable job's interrupted run).
    for (let index = log.runIndex(runs); index < runs.length; index++) {
      const run = runs[index];
      const current = index === runs.length - 1;
      const text = await this.jobLog(job.id, run.id, { signal });
      const running = current && !isJobDone(job);
      if (log.feed({ id: run.id, index: index + 1 }, text, running)) printed = true;
    }
    return printed;
  }
}

/**
 * Remembers how much of each run's log was passed on. A log is append-only: a run's text is printed from the
 * offset reached, complete lines only while the run may still write (a half line waits for its newline).
 */
class LogCursor {
  #runId: string | undefined;
  #offset = 0;

  constructor(private readonly onLog?: (line: string, run: LogRunInfo) => void) {}

  /** Index in `runs` of the run being printed (0 when none yet); runs before it are done. */
  runIndex(runs: JobRun[]): number {
    const at = runs.findIndex((run) => run.id === this.#runId);
    return Math.max(at, 0);
  }

  /** Feeds one run's whole log text so far; true when a line was passed on. */
  feed(run: LogRunInfo, text: string, running: boolean): boolean {
    if (run.id !== this.#runId) {
      this.#runId = run.id;
      this.#offset = 0;
    }
    // A shorter text than already printed means the log was replaced: print nothing twice, wait for more.
    if (text.length < this.#offset) this.#offset = text.length;
    const fresh = text.slice(this.#offset);
    const end = running ? fresh.lastIndexOf('\n') + 1 : fresh.length;
    if (end === 0) return false;
    const chunk = fresh.slice(0, end);
    this.#offset += end;
    const lines = chunk.replace(/\r?\n$/, '').split(/\r?\n/);
    for (const line of lines) this.onLog?.(line, run);
    return true;
  }
}

export interface JobOutcome {
  /** True only for SUCCEEDED. */
  ok: boolean;
  state: JobState;
  /** The last run's exit code; null when it ended without one (cancelled, interrupted); undefined if unknown. */
  exitCode: number | null | undefined;
  stateInfo: string;
  /** Seconds spent running, all runs together (totalRuntime), when known. */
  runtimeSeconds?: number;
  /** One line for a log or an error: `job acme.ml.train (ID) FAILED, exit code 3: exited with code 3`. */
  message: string;
}

/** The verdict on a job: passed only when SUCCEEDED; the message carries state, exit code and stateInfo. */
export function jobOutcome(job: Job): JobOutcome {
  const run = lastRun(job);
  const exitCode = run?.exitCode;
  const stateInfo = (job.stateInfo ?? run?.info ?? '').trim();
  const exitText =
    exitCode === undefined ? '' : exitCode === null ? ', no exit code' : `, exit code ${exitCode}`;
  const runtimeSeconds = typeof job.totalRuntime === 'number' ? job.totalRuntime : undefined;
  return {
    ok: job.state === 'SUCCEEDED',
    state: job.state,
    exitCode,
    stateInfo,
    runtimeSeconds,
    message: `job ${jobLabel(job)} ${job.state}${exitText}${stateInfo ? `: ${stateInfo}` : ''}`,
  };
}

/** Throws ToolkitCiError('job-failed') with jobOutcome's message unless the job SUCCEEDED. */
export function assertJobSucceeded(job: Job): void {
  const outcome = jobOutcome(job);
  if (!outcome.ok) throw new ToolkitCiError('job-failed', outcome.message);
}

/** True when the job will not run again: `alive` false, or (without `alive`) a final state. */
export function isJobDone(job: Job): boolean {
  if (typeof job.alive === 'boolean') return !job.alive;
  if (job.state === 'INTERRUPTED') return job.jobspec?.restartable !== true;
  return FINAL_STATES.includes(job.state);
}

/** The job's latest run (the last of `runs`), if any. */
export function lastRun(job: Job): JobRun | undefined {
  const runs = job.runs ?? [];
  return runs[runs.length - 1];
}

/**
 * The address given as the job's `url`: its API resource, `<api-url>/v1/job/<id>`. Documented choice: the
 * console's page address for a job is not documented, the API resource is (opening it needs the token).
 */
export function jobUrl(apiUrl: string, id: string): string {
  return `${apiUrl.replace(/\/+$/, '')}/v1/job/${encodeURIComponent(id)}`;
}

function jobLabel(job: Job): string {
  return job.fullName ? `${job.fullName} (${job.id})` : job.id;
}

function pendingJob(id: string): Job {
  return { id, state: 'QUEUING', alive: true };
}

/** Network failures, timeouts and 5xx (already retried by the client) may pass; anything else is an answer. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof ToolkitApiError)) return false;
  return error.kind === 'unreachable' || error.status === 429;
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new Error('aborted');
}

function segment(value: string): string {
  const text = value.trim();
  if (text === '') throw new ToolkitCiError('usage', 'a job id must not be empty');
  return encodeURIComponent(text);
}

function asJob(body: unknown, call: string, status: number): Job {
  const job = body as Partial<Job> | null;
  if (
    typeof job !== 'object' ||
    job === null ||
    typeof job.id !== 'string' ||
    typeof job.state !== 'string'
  ) {
    throw new ToolkitApiError(
      'api',
      `${call} answered HTTP ${status} without a job (no "id" or "state" field)`,
      {
        call,
        status,
      },
    );
  }
  return job as Job;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
