/**
 * The short-lived in-job token: inside a Toolkit job submitted with a role, `GET https://internal.<api-host>/v1/token`
 * (no auth) answers the bearer token as plain text. It lives an hour; ToolkitClient's `refreshToken` refetches it.
 */
import { STATUS_CODES } from 'node:http';
import { isIP } from 'node:net';
import type { Dispatcher } from 'undici';
import {
  assertSafeApiUrl,
  DEFAULT_TIMEOUT_MS,
  defaultDispatcher,
  isLoopbackHost,
  type RetryInfo,
  sendWithRetry,
  ToolkitApiError,
} from './client.js';
import { ToolkitCiError } from './errors.js';
import { type RetryDeps, type RetryPolicy, retryDepsWith, retryPolicyWith } from './retry.js';

export interface FetchJobTokenOptions {
  /** Per attempt, connect + headers + body; default 30000. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  deps?: Partial<RetryDeps>;
  /** Default: defaultDispatcher (proxy settings honoured, except for plain http), closed after the call. */
  dispatcher?: Dispatcher;
  onRetry?: (info: RetryInfo) => void;
}

const OUTSIDE_JOB_HINT =
  'The in-job token is only served inside a Toolkit job submitted with a role (`--role`); elsewhere use a role key';

/** https://console.x.com -> https://internal.console.x.com/v1/token (port kept). */
export function internalTokenUrl(apiUrl: string): string {
  const url = assertSafeApiUrl(apiUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isLoopbackHost(host) || isIP(host) !== 0) {
    throw new ToolkitCiError(
      'usage',
      `cannot derive the in-job token URL from api-url ${url.origin}: "internal." can only prefix a DNS name`,
      { hint: 'Give the token URL explicitly (e.g. http://127.0.0.1:PORT/v1/token for a local emulator)' },
    );
  }
  return `${url.protocol}//internal.${url.host}/v1/token`;
}

/** Fetches the in-job token (GET, no auth, plain text, trimmed); retried like any idempotent Toolkit call. */
export async function fetchJobToken(url: string, options: FetchJobTokenOptions = {}): Promise<string> {
  const target = assertSafeApiUrl(url, 'the token URL');
  if (target.hash) throw new ToolkitCiError('usage', 'the token URL must not contain a fragment');
  const dispatcher = options.dispatcher ?? defaultDispatcher(target);
  const call = `GET ${target.origin}${target.pathname}`;
  try {
    const response = await sendWithRetry<string>(
      {
        origin: target.origin,
        basePath: '',
        dispatcher,
        timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        policy: retryPolicyWith(options.retry),
        deps: retryDepsWith(options.deps),
        userAgent: 'toolkit-ci',
        onRetry: options.onRetry,
        secrets: () => [],
        // An error page that is one long word may be the token itself (a misbehaving proxy, say): never show it.
        withholdMessage: looksLikeToken,
        urlSetting: 'the token URL',
      },
      { method: 'GET', path: target.pathname + target.search, accept: 'text', call },
    );
    return validToken(response.body, response.status, call);
  } catch (error) {
    throw explainOutsideJob(error);
  } finally {
    if (!options.dispatcher) await dispatcher.close();
  }
}

function looksLikeToken(body: string): boolean {
  return body.length >= 8 && !/\s/.test(body);
}

function validToken(body: string | undefined, status: number, call: string): string {
  const token = (body ?? '').trim();
  if (token === '') {
    throw new ToolkitApiError(
      'api',
      `${call} answered HTTP ${status} with an empty body instead of a token`,
      {
        call,
        status,
      },
    );
  }
  if (/[^\x21-\x7e]/.test(token)) {
    // Describe the shape only: the body may be a token with a stray character, or anything else.
    throw new ToolkitApiError(
      'api',
      `${call} answered HTTP ${status} with ${token.length} characters including whitespace, control or ` +
        'non-ASCII characters, which is not a bearer token',
      { call, status },
    );
  }
  return token;
}

/** 401/403/404 from the token endpoint mean "not a job with a role", not a bad token: say so. */
function explainOutsideJob(error: unknown): unknown {
  if (!(error instanceof ToolkitApiError) || ![401, 403, 404].includes(error.status ?? 0)) return error;
  const status = error.status ?? 0;
  const said = error.serverMessage ? `; server said: ${error.serverMessage}` : '';
  return new ToolkitApiError(
    status === 404 ? 'api' : 'auth',
    `${error.call} failed with HTTP ${status} ${STATUS_CODES[status]}: no in-job token is available here${said}`,
    { call: error.call, status, serverMessage: error.serverMessage, hint: OUTSIDE_JOB_HINT },
  );
}
