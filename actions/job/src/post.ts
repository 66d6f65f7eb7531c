import * as core from '@actions/core';
import { isJobDone, type ToolkitClient } from '../../../packages/core/src/index.js';
import { rawInput } from '../../common/src/github.js';
import { connectJobClient, maskTokenSources } from './connect.js';
import { parseJobInputs } from './context.js';
import { JobLog } from './log.js';
import { STATE } from './state.js';

/**
 * The post step: cancels the job main submitted when main did not settle it (the workflow was cancelled, the
 * step timed out, main died or failed while following) and the job is still alive, unless
 * `cancel-on-abort: false`. A job must not run on unwatched, using its account's resources. Problems warn:
 * the step's outcome was decided by main.
 */
export async function runPost(): Promise<void> {
  const log = new JobLog();
  maskTokenSources(log.secrets);
  const jobId = core.getState(STATE.jobId);
  if (!jobId) {
    log.info('No job was submitted: nothing to clean up');
    return;
  }
  if (core.getState(STATE.settled) === 'true') {
    log.info(`Job ${jobId} was settled by the main step: nothing to clean up`);
    return;
  }
  let client: ToolkitClient | undefined;
  try {
    const inputs = parseJobInputs(rawInput, process.env);
    if (!inputs.cancelOnAbort) {
      log.info(`cancel-on-abort: false, so job ${jobId} is left as it is`);
      return;
    }
    const connection = await connectJobClient(inputs, log);
    client = connection.client;
    const job = await connection.jobs.getJob(jobId);
    if (isJobDone(job)) {
      log.info(`Job ${jobId} already ended (${job.state}): nothing to cancel`);
      return;
    }
    const after = await connection.jobs.cancelJob(jobId);
    log.info(`Cancelled job ${jobId} (now ${after.state}): the main step ended before the job did`);
  } catch (error) {
    log.warning(`Could not cancel job ${jobId}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await client?.close();
  }
}
