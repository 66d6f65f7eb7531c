/**
 * `toolkit-ci job submit|get|logs|wait|cancel`: the JobSpec comes from core's buildJobSpec (the same rules
 * as actions/job), the polling from core's JobClient; this module only maps flags and prints.
 */
import {
  buildJobSpec,
  fieldNames,
  formsOf,
  isJobDone,
  type Job,
  JobClient,
  type JobSpec,
  type JobSpecFields,
  JobTimeoutError,
  jobOutcome,
  jobSpecEnvValues,
  redactJobSpec,
  type Token,
  ToolkitCiError,
  type ToolkitClient,
} from '../../../core/src/index.js';
import { loadJobSpecFile } from '../../../core/src/job-spec-file.js';
import {
  API_OPTIONS,
  type CommandSpec,
  listValue,
  type OptionSpec,
  type ParsedCommand,
  type ParsedValues,
  stringValue,
  TOKEN_OPTIONS,
} from '../args.js';
import { type CliContext, readToken, resolveApiUrl, resolvePath, toolkitClient } from '../context.js';
import type { RedactingWriter } from '../output.js';

const WAIT_OPTIONS: OptionSpec[] = [
  { name: 'follow', type: 'boolean', description: 'stream the job log while waiting' },
  {
    name: 'timeout-minutes',
    type: 'string',
    value: 'N',
    description: 'stop waiting after N minutes (exit 7)',
  },
];

const JSON_OPTION: OptionSpec = { name: 'json', type: 'boolean', description: 'print the job as JSON' };

const SPEC_OPTIONS: OptionSpec[] = [
  { name: 'image', type: 'string', value: 'IMAGE', description: 'the image to run' },
  {
    name: 'command',
    type: 'string',
    value: 'SCRIPT',
    description: 'a shell script (run with /bin/sh -c) or a JSON array of strings (the argv)',
  },
  {
    name: 'env',
    type: 'string',
    multiple: true,
    value: 'NAME[=VALUE]',
    description:
      'an environment variable; NAME alone takes its value from this environment (keeps it off argv)',
  },
  {
    name: 'data',
    type: 'string',
    multiple: true,
    value: 'MOUNT',
    description: 'a data mount <data>[@version][/sub]:/mount[:ro|rw]',
  },
  { name: 'cpu', type: 'string', value: 'N', description: 'CPUs' },
  { name: 'mem', type: 'string', value: 'GB', description: 'memory in GB' },
  { name: 'gpu', type: 'string', value: 'N', description: 'GPUs' },
  { name: 'gpu-mem', type: 'string', value: 'GB', description: 'GPU memory in GB' },
  { name: 'gpu-model', type: 'string', value: 'MODEL', description: 'GPU model' },
  { name: 'name', type: 'string', value: 'NAME', description: 'job name (^[a-z0-9_]+$)' },
  { name: 'tag', type: 'string', multiple: true, value: 'KEY=VALUE', description: 'a tag' },
  { name: 'role', type: 'string', value: 'ROLE', description: 'the role the job runs as' },
  { name: 'workdir', type: 'string', value: 'DIR', description: 'working directory in the job' },
  { name: 'restartable', type: 'boolean', description: 'requeue the job when it is interrupted' },
  { name: 'preemptable', type: 'boolean', description: 'the job may be preempted' },
  {
    name: 'max-run-time',
    type: 'string',
    value: 'DURATION',
    description: 'seconds or a duration such as 90m, 2h, 1h30m',
  },
  {
    name: 'spec',
    type: 'string',
    value: 'FILE',
    description: 'a JobSpec file (YAML or JSON); the flags above override its fields',
  },
  { name: 'account', type: 'string', value: 'ACCOUNT', description: 'submit in this account (org.account)' },
];

const POLL_NOTE =
  'TOOLKIT_CI_POLL_MS sets the first poll delay in ms (default 1000; it doubles up to 15 s while nothing changes).';

export const jobSpecs: Record<string, CommandSpec> = {
  submit: {
    name: 'job submit',
    usage: '[options]',
    summary:
      'Submit a Toolkit job and print its id. With --wait (or --follow) wait for it to end: exit 7 unless it ' +
      'SUCCEEDED; a job still running at --timeout-minutes, or when toolkit-ci is stopped (SIGINT/SIGTERM), ' +
      'is cancelled.',
    options: [
      ...SPEC_OPTIONS,
      { name: 'wait', type: 'boolean', description: 'wait until the job ends' },
      ...WAIT_OPTIONS,
      { name: 'json', type: 'boolean', description: 'print the job (the final one with --wait) as JSON' },
      ...API_OPTIONS,
      ...TOKEN_OPTIONS,
    ],
    details: POLL_NOTE,
  },
  get: {
    name: 'job get',
    usage: 'ID [options]',
    summary: "Print a job's state (environment values in its JobSpec are shown as ***).",
    options: [JSON_OPTION, ...API_OPTIONS, ...TOKEN_OPTIONS],
    positionals: [1, 1],
  },
  logs: {
    name: 'job logs',
    usage: 'ID [options]',
    summary: "Print a job's log; with --follow, stream it until the job ends (exit 7 unless it SUCCEEDED).",
    options: [WAIT_OPTIONS[0] as OptionSpec, ...API_OPTIONS, ...TOKEN_OPTIONS],
    positionals: [1, 1],
    details: POLL_NOTE,
  },
  wait: {
    name: 'job wait',
    usage: 'ID [options]',
    summary:
      'Wait until a job ends; exit 7 unless it SUCCEEDED. At --timeout-minutes the job is left running (exit 7).',
    options: [...WAIT_OPTIONS, ...API_OPTIONS, ...TOKEN_OPTIONS],
    positionals: [1, 1],
    details: POLL_NOTE,
  },
  cancel: {
    name: 'job cancel',
    usage: 'ID [options]',
    summary: 'Cancel a job (it goes CANCELLING, then CANCELLED); with --wait, until it has stopped.',
    options: [
      { name: 'wait', type: 'boolean', description: 'wait until the job has stopped' },
      ...API_OPTIONS,
      ...TOKEN_OPTIONS,
    ],
    positionals: [1, 1],
  },
};

/** Reads the raw JobSpec settings from the flags (the names match actions/job's inputs). */
export function jobSpecFieldsFromFlags(values: ParsedValues, env: NodeJS.ProcessEnv): JobSpecFields {
  const flag = (name: string) => stringValue(values, name);
  const bool = (name: string) => (values[name] === true ? 'true' : undefined);
  return {
    image: flag('image'),
    command: flag('command'),
    env: listValue(values, 'env')
      .map((item) => envItem(item, env))
      .join('\n'),
    data: listValue(values, 'data').join('\n'),
    cpu: flag('cpu'),
    mem: flag('mem'),
    gpu: flag('gpu'),
    gpuMem: flag('gpu-mem'),
    gpuModel: flag('gpu-model'),
    name: flag('name'),
    tags: listValue(values, 'tag').join('\n'),
    role: flag('role'),
    workdir: flag('workdir'),
    restartable: bool('restartable'),
    preemptable: bool('preemptable'),
    maxRunTime: flag('max-run-time'),
  };
}

/** `--env NAME` takes NAME's value from the environment, so a secret value need not be on the command line. */
export function envItem(item: string, env: NodeJS.ProcessEnv, what = '--env'): string {
  if (item.includes('=')) return item;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(item)) {
    // Not quoted: an item typed with ':' instead of '=' holds a value that may be a secret.
    throw new ToolkitCiError(
      'usage',
      `${what} item (${item.length} characters, no "=") must be NAME=VALUE or the NAME of a set variable`,
      {
        hint: 'Write it as NAME=VALUE, or give only the NAME of an environment variable that holds the value',
      },
    );
  }
  const value = env[item];
  if (value === undefined) {
    throw new ToolkitCiError('usage', `${what} ${item}: the environment variable ${item} is not set`, {
      hint: `Set ${item} in this environment, or give ${item}=VALUE`,
    });
  }
  return `${item}=${value}`;
}

/** Parses --timeout-minutes (a positive number) into milliseconds. */
export function timeoutMsFrom(text: string | undefined, what = '--timeout-minutes'): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const minutes = Number(text.trim());
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(minutes > 0)) {
    throw new ToolkitCiError('usage', `${what} must be a number of minutes > 0, not ${JSON.stringify(text)}`);
  }
  return Math.round(minutes * 60_000);
}

/** The first poll delay: TOOLKIT_CI_POLL_MS when set (tests, impatient users), else core's default. */
export function jobClientFor(ctx: CliContext, client: ToolkitClient): JobClient {
  const raw = ctx.io.env.TOOLKIT_CI_POLL_MS;
  const initialDelayMs = raw && /^\d+$/.test(raw) && Number(raw) > 0 ? Number(raw) : undefined;
  return new JobClient(client, { poll: { initialDelayMs } });
}

export interface FollowSettings {
  follow: boolean;
  timeoutMs?: number;
  /** Cancel the job when the wait times out or toolkit-ci is stopped (true for a job this run submitted). */
  cancelOnStop: boolean;
  /** Where log lines go (stderr when stdout carries JSON). */
  logTo: RedactingWriter;
}

/**
 * Follows a job to its end, printing state changes and (with `follow`) its log; answers the final job.
 * A timeout or a stop signal throws job-failed, after cancelling the job when `cancelOnStop` says so.
 */
export async function followToEnd(
  ctx: CliContext,
  jobs: JobClient,
  id: string,
  settings: FollowSettings,
): Promise<Job> {
  const stop = new AbortController();
  void ctx.io.stopRequested().then((signal) => stop.abort(new StopRequested(signal)));
  try {
    return await jobs.followJob(id, {
      logs: settings.follow,
      timeoutMs: settings.timeoutMs,
      signal: stop.signal,
      onLog: (line) => settings.logTo.write(`${line}\n`),
      // The final state is reported once, with the outcome, by the caller.
      onState: (job) => {
        if (!isJobDone(job))
          ctx.out.note(`Job ${id}: ${job.state}${job.stateInfo ? ` (${job.stateInfo})` : ''}`);
      },
      onPollError: (error) => ctx.out.note(`Polling job ${id} failed, trying again: ${messageOf(error)}`),
    });
  } catch (error) {
    const why =
      error instanceof JobTimeoutError
        ? `did not end within ${settings.timeoutMs !== undefined ? settings.timeoutMs / 60_000 : '?'} minutes`
        : error instanceof StopRequested
          ? `was still running when toolkit-ci was stopped (${error.signal})`
          : undefined;
    if (why === undefined) throw error;
    if (!settings.cancelOnStop)
      throw new ToolkitCiError('job-failed', `Job ${id} ${why}; it was left running`);
    ctx.out.note(`Job ${id} ${why}: cancelling it`);
    const job = await jobs.cancelAndWait(id, { timeoutMs: 60_000 });
    throw new ToolkitCiError('job-failed', `Job ${id} ${why}; it was cancelled (state ${job.state})`);
  }
}

class StopRequested extends Error {
  constructor(readonly signal: string) {
    super(`stopped by ${signal}`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Prints the outcome and throws job-failed (exit 7) unless the job SUCCEEDED. */
export function reportOutcome(ctx: CliContext, job: Job): void {
  const outcome = jobOutcome(job);
  if (!outcome.ok) throw new ToolkitCiError('job-failed', outcome.message);
  ctx.out.note(outcome.message);
}

/** A printable copy of a job: environment values in its JobSpec become ***. */
export function printableJob(job: Job): Job {
  return job.jobspec ? { ...job, jobspec: redactJobSpec(job.jobspec) } : job;
}

/** Environment values shorter than this (in any of their forms) are not redacted; see registerEnvValue. */
const MIN_REDACTED_LENGTH = 8;

/**
 * Registers a job environment value for redaction when it could be a secret. Short values are left out:
 * redacting `1` or `true` (or, since a value with one colon counts as ACCESS:SECRET, the `http` of a URL)
 * everywhere would garble every id and log line while protecting nothing; the token itself is always
 * registered in full.
 */
export function registerEnvValue(ctx: CliContext, value: string): void {
  const text = value.trim();
  if (text !== '' && formsOf(text).every((form) => form.length >= MIN_REDACTED_LENGTH)) ctx.secrets.add(text);
}

/** Builds the JobSpec (spec file + flags), registering its environment values for redaction before any print. */
export async function jobSpecFrom(
  ctx: CliContext,
  fields: JobSpecFields,
  specFile: string | undefined,
  names = fieldNames('flag'),
  specName = '--spec',
): Promise<JobSpec> {
  // Values given with --env count as secrets for the printer even before they are validated.
  for (const line of (fields.env ?? '').split('\n')) {
    if (line.includes('=')) registerEnvValue(ctx, line.slice(line.indexOf('=') + 1));
  }
  const label = `spec file "${specFile}" (${specName})`;
  const base = specFile ? await loadJobSpecFile(resolvePath(ctx, specFile), { label }) : undefined;
  for (const value of base ? jobSpecEnvValues(base) : []) registerEnvValue(ctx, value);
  const spec = buildJobSpec(fields, base, {
    names,
    baseName: specFile ? label : undefined,
  });
  for (const value of jobSpecEnvValues(spec)) registerEnvValue(ctx, value);
  return spec;
}

/** Runs `fn` with a JobClient on a client made from the shared flags, closing it afterwards. */
async function withJobs<T>(
  ctx: CliContext,
  values: ParsedValues,
  fn: (jobs: JobClient, token: Token) => Promise<T>,
): Promise<T> {
  const apiUrl = resolveApiUrl(values, ctx.io.env);
  const token = await readToken(values, ctx);
  const client = toolkitClient(ctx, apiUrl, token);
  try {
    return await fn(jobClientFor(ctx, client), token);
  } finally {
    await client.close();
  }
}

/** `toolkit-ci job SUB ...`. */
export async function runJob(
  ctx: CliContext,
  sub: string,
  { values, positionals }: ParsedCommand,
): Promise<number> {
  const id = positionals[0] as string;
  switch (sub) {
    case 'submit':
      return submit(ctx, values);
    case 'get':
      return withJobs(ctx, values, async (jobs) => {
        const job = printableJob(await jobs.getJob(id));
        if (values.json) ctx.out.result(JSON.stringify(job, null, 2));
        else ctx.out.result(describeJob(job));
        return 0;
      });
    case 'logs':
      return withJobs(ctx, values, async (jobs) => {
        if (!values.follow) {
          const text = await jobs.jobLog(id);
          if (text !== '') ctx.out.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
          return 0;
        }
        const job = await followToEnd(ctx, jobs, id, {
          follow: true,
          cancelOnStop: false,
          logTo: ctx.out.stdout,
        });
        reportOutcome(ctx, job);
        return 0;
      });
    case 'wait':
      return withJobs(ctx, values, async (jobs) => {
        const timeoutMs = timeoutMsFrom(stringValue(values, 'timeout-minutes'));
        const job = await followToEnd(ctx, jobs, id, {
          follow: values.follow === true,
          timeoutMs,
          cancelOnStop: false,
          logTo: ctx.out.stdout,
        });
        reportOutcome(ctx, job);
        return 0;
      });
    case 'cancel':
      return withJobs(ctx, values, async (jobs) => {
        const job = values.wait ? await jobs.cancelAndWait(id) : await jobs.cancelJob(id);
        ctx.out.result(`${job.id} ${job.state}`);
        return 0;
      });
    default:
      throw new ToolkitCiError('usage', `unknown job command ${JSON.stringify(sub)}`);
  }
}

async function submit(ctx: CliContext, values: ParsedValues): Promise<number> {
  const fields = jobSpecFieldsFromFlags(values, ctx.io.env);
  // Every flag is checked before the token is read or anything is sent.
  const timeoutMs = timeoutMsFrom(stringValue(values, 'timeout-minutes'));
  const spec = await jobSpecFrom(ctx, fields, stringValue(values, 'spec'));
  const wait = values.wait === true || values.follow === true;
  // Catch a stop signal from here on: one that lands while the submit is in flight must still cancel the
  // job once its id is known (followToEnd sees the same, already settled, stop).
  if (wait) void ctx.io.stopRequested();
  return withJobs(ctx, values, async (jobs) => {
    const submitted = await jobs.submitJob(spec, { account: stringValue(values, 'account') });
    ctx.out.note(
      `Submitted job ${submitted.fullName ? `${submitted.fullName} (${submitted.id})` : submitted.id}`,
    );
    if (!values.json) ctx.out.result(submitted.id);
    if (!wait) {
      if (values.json) ctx.out.result(JSON.stringify(printableJob(submitted), null, 2));
      return 0;
    }
    const job = await followToEnd(ctx, jobs, submitted.id, {
      follow: values.follow === true,
      timeoutMs,
      cancelOnStop: true,
      logTo: values.json ? ctx.out.stderr : ctx.out.stdout,
    });
    if (values.json) ctx.out.result(JSON.stringify(printableJob(job), null, 2));
    reportOutcome(ctx, job);
    return 0;
  });
}

/** `key: value` lines for a person: id, name, state, exit code, state info. */
function describeJob(job: Job): string {
  const outcome = jobOutcome(job);
  const rows: [string, unknown][] = [
    ['id', job.id],
    ['name', job.fullName || undefined],
    ['state', job.state],
    ['alive', job.alive],
    ['exit code', outcome.exitCode],
    ['state info', outcome.stateInfo || undefined],
    ['runs', job.runs?.length],
  ];
  return rows
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}: ${value === null ? 'none' : String(value)}`)
    .join('\n');
}
