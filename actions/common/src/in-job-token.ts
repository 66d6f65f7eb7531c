import {
  fetchJobToken,
  internalTokenUrl,
  parseToken,
  type Secrets,
  type Token,
} from '../../../packages/core/src/index.js';

/** What fetching needs of a step's log: to say what it does, and to mask what it gets. */
interface Log {
  info(message: string): void;
  readonly secrets: Secrets;
}

/**
 * `token-source: job`: a function that fetches a fresh short-lived in-job token (from `job-token-url`, else
 * `internal.` + the api-url host) and masks it before returning it, so nothing can print it first. Called
 * once at the start, and again by actions/job on a 401 (the token lives an hour; a job can outlive it).
 */
export function inJobTokenSource(
  inputs: { jobTokenUrl: string; apiUrl: string },
  log: Log,
): () => Promise<Token> {
  const url = inputs.jobTokenUrl || internalTokenUrl(inputs.apiUrl);
  return async () => {
    log.info(`Fetching the short-lived in-job token from ${url}`);
    const value = await fetchJobToken(url);
    log.secrets.add(value);
    return parseToken(value, 'the in-job token endpoint').token;
  };
}
