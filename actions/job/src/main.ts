import * as core from '@actions/core';
import {
  formatDuration,
  type Job,
  type JobClient,
  JobTimeoutError,
  jobOutcome,
  jobSpecEnvValues,
  jobUrl,
  redactJobSpec,
  ToolkitCiError,
  type ToolkitClient,
} from '../../../packages/core/src/index.js';
import { rawInput } from '../../common/src/github.js';
import { connectJobClient, maskTokenSources } from './connect.js';
import { type JobInputs, parseJobInputs, resolveJobSpec } from './context.js';
import { JobLog } from './log.js';
import { STATE } from './state.js';

/** After a timeout, how long main waits for the cancelled job to reach CANCELLED. */
const CANCEL_WAIT_MS = 30_000;
/** On SIGINT the runner sends SIGTERM 7.5 s later and kills 2.5 s after that: the cancel must fit. */
const ABORT_CANCEL_BUDGET_MS = 5_000;

/** The runner cancelled the workflow (SIGINT, then SIGTERM). */
class WorkflowCancelled extends Error {
  constructor(readonly signalName: string) {
    super(`the workflow was cancelled (${signalName})`);
  }
}

/**
 * The main step, in this order:
 * 1. mask every form of the token input and of EAI_TOKEN, before anything can print;
 * 2. parse every input and build the JobSpec (spec file + inputs), so a bad one fails with nothing sent;
 * 3. mask the JobSpec's environment values, then print the JobSpec with every value shown as ***;
 * 4. submit, and record the job id in state at once (post cancels an orphan even if main is killed);
 * 5. follow: each new log line as it comes, each state change once; on `timeout-minutes`, cancel and fail;
 *    on SIGINT/SIGTERM (workflow cancelled), cancel when `cancel-on-abort`, then fail;
 * 6. outputs, the job summary, and fail unless the job SUCCEEDED.
 */
export async function runMain(): Promise<void> {
  const log = new JobLog();
  maskTokenSources(log.secrets);
  core.saveState(STATE.isPost, 'true');

  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (!abort.signal.aborted) abort.abort(new WorkflowCancelled(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let inputs: JobInputs | undefined;
  let connection: { jobs: JobClient; client: ToolkitClient } | undefined;
  let submitted: Job | undefined;
  try {
    inputs = parseJobInputs(rawInput, process.env);
    for (const warning of inputs.warnings) log.warning(warning);
    const spec = await resolveJobSpec(inputs);
    log.addEnvValues(jobSpecEnvValues(spec));
    await log.group('JobSpec (environment values hidden)', async () => {
      for (const line of JSON.stringify(redactJobSpec(spec), null, 2).split('\n')) log.info(line);
    });
    throwIfAborted(abort.signal);

    connection = await connectJobClient(inputs, log);
    // No abort signal here: a submit cut short could start a job whose id this step never learns.
    submitted = await connection.jobs.submitJob(spec, { account: inputs.account || undefined });
    core.saveState(STATE.jobId, submitted.id);
    const url = jobUrl(inputs.apiUrl, submitted.id);
    core.setOutput('job-id', submitted.id);
    core.setOutput('url', url);
    log.info(`Submitted job ${label(submitted)}: ${url}`);
    throwIfAborted(abort.signal);

    if (!inputs.wait) {
      core.saveState(STATE.settled, 'true');
      setStateOutputs(submitted);
      log.info('wait: false, so the job runs on without this step');
      await writeSummary(submitted, url, log, 'not waited for (wait: false)');
      return;
    }

    const final = await waitForJob(connection.jobs, submitted, inputs, log, abort.signal);
    core.saveState(STATE.settled, 'true');
    setStateOutputs(final);
    const outcome = jobOutcome(final);
    await writeSummary(final, url, log);
    if (!outcome.ok) throw new ToolkitCiError('job-failed', outcome.message);
    log.info(outcome.message);
  } catch (error) {
    if (abort.signal.aborted) {
      await onAbort(abort.signal.reason, submitted, inputs, connection?.jobs, log);
    } else {
      log.fail(error);
    }
  } finally {
    log.closeWindow();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await connection?.client.close();
  }
}

/** Follows the job to its end; on `timeout-minutes`, cancels it, waits briefly for CANCELLED and fails. */
async function waitForJob(
  jobs: JobClient,
  job: Job,
  inputs: JobInputs,
  log: JobLog,
  signal: AbortSignal,
): Promise<Job> {
  let runIndex = 1;
  try {
    return await jobs.followJob(job.id, {
      logs: inputs.followLogs,
      timeoutMs: inputs.timeoutMs,
      signal,
      onState: (seen) => log.info(`Job state: ${seen.state}${seen.stateInfo ? ` (${seen.stateInfo})` : ''}`),
      onLog: (line, run) => {
        if (run.index !== runIndex) {
          runIndex = run.index;
          log.info(`----- run ${run.index} of the job -----`);
        }
        log.jobLine(line);
      },
      onPollError: (error) => log.info(`Reading the job failed (${messageOf(error)}); polling on`),
    });
  } catch (error) {
    if (!(error instanceof JobTimeoutError)) throw error;
    log.closeWindow();
    log.info(`timeout-minutes reached: cancelling job ${label(error.job)}`);
    const last = await jobs.cancelAndWait(job.id, { timeoutMs: CANCEL_WAIT_MS, signal });
    core.saveState(STATE.settled, 'true');
    setStateOutputs(last);
    await writeSummary(last, jobUrl(inputs.apiUrl, job.id), log);
    throw new ToolkitCiError('job-failed', `${error.message}; it was cancelled (now ${last.state})`, {
      hint: 'Raise timeout-minutes, or make the job faster',
    });
  }
}

/** The workflow was cancelled: cancel the job (when asked to) within the runner's grace period, then fail. */
async function onAbort(
  reason: unknown,
  job: Job | undefined,
  inputs: JobInputs | undefined,
  jobs: JobClient | undefined,
  log: JobLog,
): Promise<void> {
  const why = reason instanceof Error ? reason.message : 'the step was aborted';
  if (!job || !jobs || !inputs) {
    log.fail(`Stopped: ${why}, before a job was submitted`);
    return;
  }
  if (!inputs.cancelOnAbort) {
    core.saveState(STATE.settled, 'true');
    log.fail(`Stopped: ${why}; job ${label(job)} runs on (cancel-on-abort: false)`);
    return;
  }
  try {
    const after = await jobs.cancelJob(job.id, { signal: AbortSignal.timeout(ABORT_CANCEL_BUDGET_MS) });
    core.saveState(STATE.settled, 'true');
    setStateOutputs(after);
    log.fail(`Stopped: ${why}; job ${label(job)} was cancelled (now ${after.state})`);
  } catch (error) {
    log.fail(
      `Stopped: ${why}; cancelling job ${label(job)} failed (${messageOf(error)}), the post step tries again`,
    );
  }
}

function setStateOutputs(job: Job): void {
  const { state, exitCode } = jobOutcome(job);
  core.setOutput('state', state);
  core.setOutput('exit-code', typeof exitCode === 'number' ? String(exitCode) : '');
}

function label(job: Job): string {
  return job.fullName ? `${job.fullName} (${job.id})` : job.id;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}

async function writeSummary(job: Job, url: string, log: JobLog, note?: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const outcome = jobOutcome(job);
  const rows = [
    ['Job', job.fullName || job.name || job.id],
    ['ID', job.id],
    [
      'State',
      `${outcome.state}${outcome.stateInfo ? ` (${outcome.stateInfo})` : ''}${note ? `, ${note}` : ''}`,
    ],
    ['Exit code', typeof outcome.exitCode === 'number' ? String(outcome.exitCode) : '-'],
    ['Run time', outcome.runtimeSeconds === undefined ? '-' : formatDuration(outcome.runtimeSeconds)],
  ];
  try {
    log.closeWindow();
    await core.summary
      .addHeading(`Toolkit job: ${escapeHtml(log.redact(String(rows[0][1])))}`, 3)
      .addTable([
        [
          { data: 'what', header: true },
          { data: 'value', header: true },
        ],
        ...rows.map(([what, value]) => [what, escapeHtml(log.redact(value))]),
      ])
      .addLink(escapeHtml(log.redact(url)), log.redact(url))
      .write();
  } catch (error) {
    log.debug(`Could not write the job summary: ${String(error)}`);
  }
}

/** The summary is HTML/markdown: a job's name or stateInfo must not add markup. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}
