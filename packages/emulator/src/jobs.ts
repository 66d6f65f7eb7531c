// Jobs and their runs on the emulated timeline:
//   QUEUING -(queuing s)-> QUEUED -(queued s)-> RUNNING -(the script)-> SUCCEEDED | FAILED
// with `interrupt` (INTERRUPTED, requeued when restartable), cancel (CANCELLING -(cancelling s)-> CANCELLED),
// maxRunTime (FAILED) and retry (a new run). See README "Job lifecycle".
import type { Account } from './directory.js';
import { randomId } from './ids.js';
import type { Scheduler } from './scheduler.js';
import { envOf, parseScript, type Step, scriptOf } from './script.js';
import type { Job, JobRun, JobSpec, JobState } from './types.js';

export interface Phases {
  queuing: number;
  queued: number;
  cancelling: number;
  requeue: number;
}

interface RunRecord {
  view: JobRun;
  log: string;
  /** Monotonic ms when RUNNING began / ended, for totalRuntime. */
  runningSince?: number;
  runningUntil?: number;
}

export interface JobRecord {
  id: string;
  seq: number;
  name: string;
  fullName: string;
  urn: string;
  account: Account;
  creator: string;
  spec: JobSpec;
  state: JobState;
  stateInfo: string;
  alive: boolean;
  created: string;
  updatedOn: string;
  runs: RunRecord[];
  /** Cancel functions of this job's pending timers. */
  timers: Set<() => void>;
}

export const RETRYABLE: readonly JobState[] = ['INTERRUPTED', 'FAILED', 'CANCELLED'];
const RUN_IS_LIVE: readonly JobState[] = ['QUEUING', 'QUEUED', 'RUNNING'];

export class JobEngine {
  private readonly jobs = new Map<string, JobRecord>();
  private seq = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly now: () => number,
    private readonly phases: Phases,
    private readonly consoleUrl: () => string,
  ) {}

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  /** Creates a job in QUEUING with its first run and starts its timeline. */
  submit(spec: JobSpec, account: Account, creator: string): JobRecord {
    const id = randomId();
    const created = this.iso();
    const name = spec.name ?? '';
    const job: JobRecord = {
      id,
      seq: this.seq++,
      name,
      fullName: name ? `${account.fullName}.${name}` : '',
      urn: `${account.urn}:job:${id}`,
      account,
      creator,
      spec,
      state: 'QUEUING',
      stateInfo: '',
      alive: true,
      created,
      updatedOn: created,
      runs: [],
      timers: new Set(),
    };
    this.jobs.set(id, job);
    this.startRun(job);
    return job;
  }

  /** A job by uuid, or by full name `org.account.name` (the most recent job of that name). */
  find(idOrFullName: string): JobRecord | undefined {
    const byId = this.jobs.get(idOrFullName);
    if (byId || !idOrFullName.includes('.')) return byId;
    let found: JobRecord | undefined;
    for (const job of this.jobs.values()) if (job.fullName === idOrFullName) found = job;
    return found;
  }

  all(): JobRecord[] {
    return [...this.jobs.values()];
  }

  /** Requests cancellation of an alive job; a job already ending or ended is left as it is. */
  cancel(job: JobRecord): void {
    if (!job.alive || job.state === 'CANCELLING') return;
    this.clearTimers(job);
    const run = job.runs.at(-1)!;
    const liveRun = RUN_IS_LIVE.includes(run.view.state);
    if (liveRun) {
      this.endRunning(run);
      run.view.state = 'CANCELLING';
      run.view.cancelRequestedOn = this.iso();
    }
    this.setState(job, 'CANCELLING', 'cancellation requested');
    this.later(job, this.phases.cancelling, () => {
      if (liveRun) {
        run.view.state = 'CANCELLED';
        run.view.endedOn = this.iso();
        run.view.info = 'cancelled on request';
      }
      job.alive = false;
      this.setState(job, 'CANCELLED', 'cancelled on request');
    });
  }

  /** Starts a new run of an INTERRUPTED, FAILED or CANCELLED job; false for any other state. */
  retry(job: JobRecord): boolean {
    if (!RETRYABLE.includes(job.state)) return false;
    this.clearTimers(job);
    this.startRun(job);
    return true;
  }

  /** The log of one run (default: the current one); undefined when the run does not exist. */
  log(job: JobRecord, runId?: string): string | undefined {
    const run = runId === undefined ? job.runs.at(-1) : job.runs.find((r) => r.view.id === runId);
    return run?.log;
  }

  /** The API view of a job: a deep copy, so callers cannot change the emulator's state. */
  view(job: JobRecord): Job {
    return structuredClone({
      id: job.id,
      name: job.name,
      fullName: job.fullName,
      urn: job.urn,
      accessUrl: `http://${job.id}.job.toolkit-emulator.invalid`,
      alive: job.alive,
      state: job.state,
      stateInfo: job.stateInfo,
      runs: job.runs.map((r) => r.view),
      jobspec: job.spec,
      account: job.account.id,
      organization: job.account.organizationId,
      creator: job.creator,
      created: job.created,
      updatedOn: job.updatedOn,
      totalRuntime: this.totalRuntime(job),
      resourceUsageUrl: '',
    });
  }

  /** Forgets every job and its timers. */
  reset(): void {
    for (const job of this.jobs.values()) this.clearTimers(job);
    this.jobs.clear();
  }

  private totalRuntime(job: JobRecord): number {
    const ms = job.runs.reduce((sum, run) => {
      if (run.runningSince === undefined) return sum;
      return sum + ((run.runningUntil ?? performance.now()) - run.runningSince);
    }, 0);
    return Math.round(this.scheduler.toSeconds(ms) * 1000) / 1000;
  }

  private setState(job: JobRecord, state: JobState, info: string): void {
    job.state = state;
    job.stateInfo = info;
    job.updatedOn = this.iso();
  }

  private later(job: JobRecord, seconds: number, fn: () => void): void {
    const cancel = this.scheduler.afterSeconds(seconds, () => {
      job.timers.delete(cancel);
      fn();
    });
    job.timers.add(cancel);
  }

  private clearTimers(job: JobRecord): void {
    for (const cancel of job.timers) cancel();
    job.timers.clear();
  }

  private endRunning(run: RunRecord): void {
    if (run.runningSince !== undefined && run.runningUntil === undefined)
      run.runningUntil = performance.now();
  }

  private startRun(job: JobRecord): void {
    const run: RunRecord = {
      log: '',
      view: {
        id: randomId(),
        jobId: job.id,
        state: 'QUEUING',
        exitCode: null,
        createdOn: this.iso(),
        queuedOn: null,
        startedOn: null,
        endedOn: null,
        cancelRequestedOn: null,
        nodeName: null,
        ip: null,
        info: '',
      },
    };
    job.runs.push(run);
    job.alive = true;
    this.setState(job, 'QUEUING', '');
    this.later(job, this.phases.queuing, () => {
      run.view.state = 'QUEUED';
      run.view.queuedOn = this.iso();
      this.setState(job, 'QUEUED', '');
      this.later(job, this.phases.queued, () => this.startRunning(job, run));
    });
  }

  private startRunning(job: JobRecord, run: RunRecord): void {
    run.view.state = 'RUNNING';
    run.view.startedOn = this.iso();
    run.view.nodeName = 'emulator-node-1';
    run.view.ip = '127.0.0.1';
    run.runningSince = performance.now();
    this.setState(job, 'RUNNING', '');
    const env = {
      EAI_CONSOLE_URL: this.consoleUrl(),
      EAI_JOB_ID: job.id,
      EAI_RUN_ID: run.view.id,
      ...envOf(job.spec.environmentVars),
    };
    const steps = parseScript(scriptOf(job.spec.command), env);
    const maxRunTime = job.spec.maxRunTime;
    if (maxRunTime !== undefined) {
      this.later(job, maxRunTime, () => {
        this.clearTimers(job);
        this.endRun(job, run, 'FAILED', null, `maxRunTime of ${maxRunTime} s exceeded`);
      });
    }
    this.execute(job, run, steps, 0);
  }

  /** Runs steps from `pc` until the script sleeps or ends. */
  private execute(job: JobRecord, run: RunRecord, steps: Step[], pc: number): void {
    for (let i = pc; i < steps.length; i++) {
      const step = steps[i]!;
      if (step.op === 'echo') {
        run.log += `${step.text}\n`;
      } else if (step.op === 'sleep') {
        if (step.seconds > 0) {
          this.later(job, step.seconds, () => this.execute(job, run, steps, i + 1));
          return;
        }
      } else if (step.op === 'exit') {
        this.finish(job, run, step.code);
        return;
      } else if (step.op === 'interrupt' && job.runs[0] === run) {
        this.interrupt(job, run);
        return;
      }
    }
    this.finish(job, run, 0);
  }

  private finish(job: JobRecord, run: RunRecord, code: number): void {
    this.clearTimers(job);
    this.endRun(job, run, code === 0 ? 'SUCCEEDED' : 'FAILED', code, `exited with code ${code}`);
  }

  private endRun(job: JobRecord, run: RunRecord, state: JobState, code: number | null, info: string): void {
    this.endRunning(run);
    run.view.state = state;
    run.view.exitCode = code;
    run.view.endedOn = this.iso();
    run.view.info = info;
    job.alive = false;
    this.setState(job, state, info);
  }

  private interrupt(job: JobRecord, run: RunRecord): void {
    this.clearTimers(job);
    this.endRunning(run);
    run.view.state = 'INTERRUPTED';
    run.view.endedOn = this.iso();
    run.view.info = 'interrupted';
    if (job.spec.restartable === true) {
      this.setState(job, 'INTERRUPTED', 'interrupted; restartable, so it is queued again');
      this.later(job, this.phases.requeue, () => this.startRun(job));
    } else {
      job.alive = false;
      this.setState(job, 'INTERRUPTED', 'interrupted; not restartable');
    }
  }
}
