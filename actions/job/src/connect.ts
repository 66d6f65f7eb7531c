import { JobClient, type Secrets, ToolkitClient } from '../../../packages/core/src/index.js';
import { rawInput } from '../../common/src/github.js';
import { inJobTokenSource } from '../../common/src/in-job-token.js';
import type { JobInputs } from './context.js';
import type { JobLog } from './log.js';

/** Registers the token input and EAI_TOKEN with the masker whatever their shape; called first thing. */
export function maskTokenSources(secrets: Secrets): void {
  secrets.addRaw(rawInput('token'));
  secrets.addRaw(process.env.EAI_TOKEN ?? '');
}

/**
 * A JobClient for the inputs' token: the given one, or with `token-source: job` the in-job token, fetched
 * now and again on a 401 (it lives an hour; a long job outlives it). Each fetched token is masked at once.
 */
export async function connectJobClient(
  inputs: JobInputs,
  log: JobLog,
): Promise<{ jobs: JobClient; client: ToolkitClient }> {
  let token = inputs.token?.value;
  let refreshToken: (() => Promise<string>) | undefined;
  if (token === undefined) {
    const fetchToken = inJobTokenSource(inputs, log);
    refreshToken = async () => (await fetchToken()).value;
    token = await refreshToken();
  }
  const client = new ToolkitClient({
    apiUrl: inputs.apiUrl,
    token,
    refreshToken,
    redact: (text) => log.redact(text),
    onRetry: ({ call, attempt, delayMs, reason }) =>
      log.info(`${call} failed (${reason}); attempt ${attempt + 1} in ${(delayMs / 1000).toFixed(1)} s`),
  });
  return { client, jobs: new JobClient(client, { poll: inputs.poll }) };
}
