import {
  fetchJobToken,
  internalTokenUrl,
  JobClient,
  parseToken,
  type Secrets,
  ToolkitClient,
} from '../../../packages/core/src/index.js';
import { rawInput } from '../../common/src/github.js';
import type { JobInputs } from './context.js';
import type { JobLog } from './log.js';

/**
 * Registers the token input and EAI_TOKEN with the masker whatever their shape: a value the parser will
 * refuse is still a secret, so its trimmed form and each of its lines are masked too. Called first thing.
 */
export function maskTokenSources(secrets: Secrets): void {
  for (const raw of [rawInput('token'), process.env.EAI_TOKEN ?? '']) {
    const trimmed = raw.trim();
    if (!trimmed) continue;
    secrets.add(trimmed);
    for (const line of trimmed.split(/\r?\n/)) {
      if (line.trim()) secrets.add(line.trim());
    }
    try {
      secrets.add(parseToken(trimmed).token);
    } catch {
      // refused shapes are reported by parseJobInputs, with a message that names the input
    }
  }
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
    const url = inputs.jobTokenUrl || internalTokenUrl(inputs.apiUrl);
    refreshToken = async () => {
      log.info(`Fetching the short-lived in-job token from ${url}`);
      const value = await fetchJobToken(url);
      log.secrets.add(value);
      return parseToken(value, 'the in-job token endpoint').token.value;
    };
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
