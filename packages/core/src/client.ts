/**
 * The Toolkit HTTP client on undici. One place decides what is safe: where a token may be sent (the configured
 * origin only, https unless loopback, never through a redirect), what is retried (only what cannot make a
 * call happen twice), and what an error may say (call, status, server message; never a header, never the token).
 */
import { STATUS_CODES } from 'node:http';
import { isIP } from 'node:net';
import { Agent, type Dispatcher, EnvHttpProxyAgent } from 'undici';
import { type ErrorKind, ToolkitCiError } from './errors.js';
import {
  parseRetryAfter,
  type RetryDeps,
  type RetryPolicy,
  retryDepsWith,
  retryPolicyWith,
  withRetry,
} from './retry.js';
import { Secrets } from './secrets.js';

/** Per-attempt timeout (connect + headers + body) when none is given. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Server messages are cut to this many characters in errors. */
const MAX_SERVER_MESSAGE_CHARS = 300;
/** Only this much of an error body is read: enough for a message, not enough to hold a CI job on a huge page. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Toolkit's API base; every adapter's default for api-url (EAI_CONSOLE_URL overrides it where read). */
export const DEFAULT_API_URL = 'https://console.elementai.com';

export interface ClientOptions {
  /** e.g. https://console.elementai.com (paths are '/v1/...'); a path prefix is kept. */
  apiUrl: string;
  token: string;
  /** When set (job tokens), a 401 fetches a fresh token and retries once. */
  refreshToken?: () => Promise<string>;
  /** Per attempt, covers connect + headers + body; default 30000. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Injectable sleep/clock/random for tests. */
  deps?: Partial<RetryDeps>;
  /** Default: new EnvHttpProxyAgent() (honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY). */
  dispatcher?: Dispatcher;
  /** Default 'toolkit-ci'. */
  userAgent?: string;
  /** Called before each retry; adapters log it. */
  onRetry?: (info: RetryInfo) => void;
  /** Applied to server messages put in errors (the token itself is always removed). */
  redact?: (text: string) => string;
}

export interface RetryInfo {
  call: string;
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface ApiResponse<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

export interface Identity {
  id: string;
  name?: string;
  fullName?: string;
  mail?: string;
  account?: string;
  urn?: string;
  [k: string]: unknown;
}

export interface RequestOptions {
  /** How errors name the call; default "METHOD /path". */
  call?: string;
  /** Default: false for POST and PATCH, true otherwise. Non-idempotent calls are retried only when surely unprocessed. */
  idempotent?: boolean;
  signal?: AbortSignal;
  /** 'text' always answers the body as text (job logs); 'json' parses JSON when the content-type says so. */
  accept?: 'json' | 'text';
}

/** A failed Toolkit call: which call, which status, what the server said (redacted, token removed). */
export class ToolkitApiError extends ToolkitCiError {
  readonly call: string;
  readonly status?: number;
  readonly serverMessage?: string;

  constructor(
    kind: ErrorKind,
    message: string,
    details: { call: string; status?: number; serverMessage?: string; hint?: string },
  ) {
    super(kind, message, { hint: details.hint });
    this.name = 'ToolkitApiError';
    this.call = details.call;
    this.status = details.status;
    this.serverMessage = details.serverMessage;
  }
}

/** True for localhost, 127.0.0.0/8 and ::1 (with or without brackets): hosts plain http may carry a token to. */
export function isLoopbackHost(hostname: string): boolean {
  let host = hostname.trim().toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.split('.')[0] === '127';
  if (isIP(host) === 6) return host === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(host);
  return false;
}

/**
 * Parses an API (or token endpoint) URL and refuses what would put a token at risk: not a URL, not http(s),
 * credentials in it, or plain http to a host other than loopback. Messages show the origin, never the full value.
 */
export function assertSafeApiUrl(apiUrl: string, what = 'api-url'): URL {
  let url: URL;
  try {
    url = new URL(apiUrl.trim());
  } catch {
    throw new ToolkitCiError('usage', `${what} is not a valid URL`, {
      hint: `Use an absolute URL such as https://console.elementai.com`,
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ToolkitCiError('usage', `${what} must use https (it uses ${url.protocol.replace(/:$/, '')})`, {
      hint: url.host
        ? `Use https://${url.host}`
        : 'Use an absolute URL such as https://console.elementai.com',
    });
  }
  if (url.username || url.password) {
    throw new ToolkitCiError('usage', `${what} must not contain a user name or password`, {
      hint: 'Remove the user name and password from the URL: the token is sent in a header, never in the URL',
    });
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new ToolkitCiError(
      'usage',
      `${what} ${url.origin} uses plain http: a token is only sent over http to a loopback host`,
      { hint: `Use https://${url.host}` },
    );
  }
  return url;
}

/**
 * The dispatcher used when none is given: HTTPS_PROXY/HTTP_PROXY/NO_PROXY are honoured, except for a plain
 * http origin (loopback only, see assertSafeApiUrl). A proxy would get that request, Authorization header
 * included, in clear text over the network, and could not reach this machine's loopback anyway.
 */
export function defaultDispatcher(url: URL): Dispatcher {
  return url.protocol === 'http:' ? new Agent() : new EnvHttpProxyAgent();
}

/**
 * An API base URL: safe (see assertSafeApiUrl) and without a query or fragment, since call paths are
 * appended to it. Adapters check their api-url with it while parsing inputs, before anything happens.
 */
export function assertApiBaseUrl(apiUrl: string, what = 'api-url'): URL {
  const url = assertSafeApiUrl(apiUrl, what);
  if (url.search || url.hash) {
    throw new ToolkitCiError('usage', `${what} must not contain a query or a fragment`, {
      hint: `Give the API base only, e.g. ${url.origin}${url.pathname.replace(/\/+$/, '')}`,
    });
  }
  return url;
}

/**
 * Everything one HTTP exchange needs. Low-level: ToolkitClient and fetchJobToken build one; most code wants
 * ToolkitClient.
 */
export interface Transport {
  origin: string;
  /** Prepended to every path ('' or '/prefix'). */
  basePath: string;
  dispatcher: Dispatcher;
  timeoutMs: number;
  policy: RetryPolicy;
  deps: RetryDeps;
  userAgent: string;
  onRetry?: (info: RetryInfo) => void;
  redact?: (text: string) => string;
  /** Values removed from every server message, in every encoded form (the tokens in use). */
  secrets: () => readonly string[];
  /** When true for an error body, the body is left out of the error (e.g. the in-job token endpoint's answer). */
  withholdMessage?: (body: string) => boolean;
  /** How messages name the URL setting to fix, e.g. 'api-url'. */
  urlSetting: string;
}

export interface SendRequest extends RequestOptions {
  method: string;
  path: string;
  body?: unknown;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token?: string;
}

/** Why one attempt failed, in terms the retry decision and the final error need. */
interface NetworkProblem {
  reason: string;
  /** The request surely did not reach the server (refused, DNS, connect timeout): safe to resend even a POST. */
  notSent: boolean;
  /** A certificate problem: retrying cannot help. */
  tls: boolean;
  timedOut: boolean;
}

class AttemptFailure extends Error {
  constructor(
    readonly status: number | undefined,
    readonly network: NetworkProblem | undefined,
    readonly serverMessage: string | undefined,
    readonly retryAfterMs: number | undefined,
    readonly withheld = false,
  ) {
    super(network ? network.reason : `HTTP ${status}`);
  }
}

const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);
/** Statuses that mean the server did not process the request, so even a POST may be sent again. */
const UNPROCESSED_STATUSES = new Set([429, 503]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Sends one call with timeouts and retries; throws ToolkitApiError (or the caller's abort reason). */
export async function sendWithRetry<T>(transport: Transport, request: SendRequest): Promise<ApiResponse<T>> {
  const method = request.method.toUpperCase();
  const target = resolvePath(transport, request.path);
  const call = request.call ?? `${method} ${request.path.split('?')[0]}`;
  const idempotent = request.idempotent ?? !(method === 'POST' || method === 'PATCH');
  if (request.token !== undefined) assertHeaderSafeToken(request.token);
  let attempts = 0;
  try {
    return await withRetry(
      (attempt) => {
        attempts = attempt;
        return attemptOnce<T>(transport, request, method, target, call);
      },
      {
        policy: transport.policy,
        deps: transport.deps,
        signal: request.signal,
        decide: (error) => decideRetry(error, idempotent, transport.policy),
        onRetry: ({ attempt, delayMs, error }) =>
          transport.onRetry?.({ call, attempt, delayMs, reason: describeFailure(error) }),
      },
    );
  } catch (error) {
    if (request.signal?.aborted) throw request.signal.reason;
    if (error instanceof AttemptFailure) throw finalError(transport, error, call, attempts, idempotent);
    throw error;
  }
}

/** Talks to Toolkit with a bearer token; see ClientOptions. */
export class ToolkitClient {
  readonly apiUrl: string;
  #token: string;
  readonly #usedTokens = new Set<string>();
  readonly #refreshToken?: () => Promise<string>;
  readonly #transport: Transport;
  readonly #ownsDispatcher: boolean;

  constructor(options: ClientOptions) {
    const url = assertApiBaseUrl(options.apiUrl);
    assertHeaderSafeToken(options.token);
    this.#token = options.token;
    this.#usedTokens.add(options.token);
    this.#refreshToken = options.refreshToken;
    const basePath = url.pathname.replace(/\/+$/, '');
    this.apiUrl = url.origin + basePath;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#transport = {
      origin: url.origin,
      basePath,
      dispatcher: options.dispatcher ?? defaultDispatcher(url),
      timeoutMs: validTimeout(options.timeoutMs),
      policy: retryPolicyWith(options.retry),
      deps: retryDepsWith(options.deps),
      userAgent: options.userAgent ?? 'toolkit-ci',
      onRetry: options.onRetry,
      redact: options.redact,
      secrets: () => [...this.#usedTokens],
      urlSetting: 'api-url',
    };
  }

  /** Sends `method path` with the token; answers the parsed body of a 2xx, throws ToolkitApiError otherwise. */
  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const send = () =>
      sendWithRetry<T>(this.#transport, { ...options, method, path, body, token: this.#token });
    try {
      return await send();
    } catch (error) {
      if (!(this.#refreshToken && error instanceof ToolkitApiError && error.status === 401)) throw error;
      // Job tokens live an hour: a 401 most likely means this one expired, so fetch a new one and retry once.
      const fresh = await this.#refreshToken();
      assertHeaderSafeToken(fresh);
      this.#usedTokens.add(fresh);
      this.#token = fresh;
      return await send();
    }
  }

  /** GET /v1/me: who the token belongs to (a role key answers with the role's identity). */
  async me(): Promise<Identity> {
    const { body } = await this.request<unknown>('GET', '/v1/me');
    if (typeof body !== 'object' || body === null || typeof (body as Identity).id !== 'string') {
      throw new ToolkitApiError('api', 'GET /v1/me answered without an identity (no "id" field)', {
        call: 'GET /v1/me',
        status: 200,
      });
    }
    return body as Identity;
  }

  /** Closes the connections of the dispatcher this client created (a given dispatcher is left to its owner). */
  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#transport.dispatcher.close();
  }
}

function validTimeout(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined) return DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new ToolkitCiError('usage', 'the timeout must be a positive number of milliseconds');
  }
  return timeoutMs;
}

/** A token with whitespace or control characters could inject headers; describe its shape, never its value. */
function assertHeaderSafeToken(token: string): void {
  if (typeof token !== 'string' || token.length === 0) {
    throw new ToolkitCiError('usage', 'the token is empty');
  }
  if (/[^\x21-\x7e]/.test(token)) {
    throw new ToolkitCiError(
      'usage',
      `the token (${token.length} characters) contains whitespace, control or non-ASCII characters`,
    );
  }
}

/** The path to send, after checking it stays on the configured origin. */
function resolvePath(transport: Transport, path: string): string {
  const problem = !path.startsWith('/')
    ? 'must start with "/"'
    : path.startsWith('//') || path.includes('\\')
      ? 'must be a path on api-url, not another host'
      : /[\s\x00-\x1f\x7f]/.test(path)
        ? 'must not contain whitespace or control characters'
        : undefined;
  if (problem) throw new ToolkitCiError('usage', `the request path ${problem}`);
  const url = new URL(transport.basePath + path, transport.origin);
  if (url.origin !== transport.origin) {
    throw new ToolkitCiError('usage', 'the request path must be a path on api-url, not another host');
  }
  return url.pathname + url.search;
}

async function attemptOnce<T>(
  transport: Transport,
  request: SendRequest,
  method: string,
  path: string,
  call: string,
): Promise<ApiResponse<T>> {
  const controller = new AbortController();
  let timedOut = false;
  // One deadline for connect + headers + body; undici's own timeouts back it up inside the connection.
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${transport.timeoutMs} ms`));
  }, transport.timeoutMs);
  const forwardAbort = () => controller.abort(request.signal?.reason);
  request.signal?.addEventListener('abort', forwardAbort, { once: true });
  if (request.signal?.aborted) forwardAbort();
  const headers: Record<string, string> = {
    accept: request.accept === 'text' ? 'text/plain, */*;q=0.5' : 'application/json',
    'user-agent': transport.userAgent,
  };
  if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
  let payload: string | undefined;
  if (request.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(request.body);
  }
  const networkFailure = (error: unknown) =>
    new AttemptFailure(
      undefined,
      describeNetworkError(error, timedOut, transport.timeoutMs),
      undefined,
      undefined,
    );
  try {
    let response: Dispatcher.ResponseData;
    try {
      response = await transport.dispatcher.request({
        origin: transport.origin,
        path,
        method: method as Dispatcher.HttpMethod,
        headers,
        body: payload,
        signal: controller.signal,
        headersTimeout: transport.timeoutMs,
        bodyTimeout: transport.timeoutMs,
      });
    } catch (error) {
      throw networkFailure(error);
    }
    const { statusCode: status, headers: responseHeaders } = response;
    if (status >= 200 && status < 300) {
      let text: string;
      try {
        text = await response.body.text();
      } catch (error) {
        // A body cut short (socket closed, timeout) is a network failure, retried like one.
        throw networkFailure(error);
      }
      return {
        status,
        headers: responseHeaders,
        body: parseBody<T>(text, status, responseHeaders, request, call),
      };
    }
    const text = await readCapped(response.body, MAX_ERROR_BODY_BYTES);
    if (status >= 300 && status < 400) {
      throw new ToolkitApiError(
        'api',
        `${call} answered with a redirect (HTTP ${status}) to ${redirectTarget(responseHeaders.location, transport.origin)}; ` +
          `redirects are not followed: set ${transport.urlSetting} to the final address`,
        { call, status },
      );
    }
    const withheld = transport.withholdMessage?.(text.trim()) ?? false;
    const retryAfter = firstHeader(responseHeaders['retry-after']);
    throw new AttemptFailure(
      status,
      undefined,
      withheld ? undefined : serverMessageOf(text, transport),
      parseRetryAfter(retryAfter, transport.deps.now()),
      withheld,
    );
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', forwardAbort);
  }
}

function parseBody<T>(
  text: string,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  request: SendRequest,
  call: string,
): T {
  if (status === 204 || status === 205) return undefined as T;
  if (request.accept === 'text') return text as T;
  const contentType = firstHeader(headers['content-type']) ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType.trim())) return text as T;
  if (text.trim() === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    // A 2xx body can hold secrets (a new role key, for one): describe it, never quote it.
    throw new ToolkitApiError(
      'api',
      `${call} answered HTTP ${status} with invalid JSON (${text.length} characters)`,
      {
        call,
        status,
      },
    );
  }
}

async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      chunks.push(buffer);
      size += buffer.length;
      if (size >= limit) break;
    }
  } catch {
    // The status already says what went wrong; a cut-short message is still worth showing.
  } finally {
    if (!body.destroyed) body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Only the origin of a redirect target is shown: its path or query may carry anything. */
function redirectTarget(location: string | string[] | undefined, origin: string): string {
  const value = firstHeader(location);
  if (!value) return 'an unspecified address (no Location header)';
  try {
    const url = new URL(value, origin);
    return url.origin === 'null' ? `a ${url.protocol} address` : url.origin;
  } catch {
    return 'an invalid address';
  }
}

function describeNetworkError(error: unknown, timedOut: boolean, timeoutMs: number): NetworkProblem {
  const err = error as { code?: unknown; message?: unknown; cause?: { code?: unknown } } | undefined;
  const code =
    typeof err?.code === 'string' ? err.code : typeof err?.cause?.code === 'string' ? err.cause.code : '';
  if (timedOut || TIMEOUT_CODES.has(code)) {
    return { reason: `timed out after ${timeoutMs} ms`, notSent: false, tls: false, timedOut: true };
  }
  if (code === 'ECONNREFUSED')
    return { reason: 'connection refused', notSent: true, tls: false, timedOut: false };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return { reason: `host not found (${code})`, notSent: true, tls: false, timedOut: false };
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return { reason: 'connect timed out', notSent: true, tls: false, timedOut: true };
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS/.test(code)) {
    return { reason: `TLS certificate not trusted (${code})`, notSent: true, tls: true, timedOut: false };
  }
  const message = typeof err?.message === 'string' ? err.message : String(error);
  return { reason: code ? `${code}: ${message}` : message, notSent: false, tls: false, timedOut: false };
}

function decideRetry(
  error: unknown,
  idempotent: boolean,
  policy: RetryPolicy,
): { retry: boolean; delayMs?: number } {
  if (!(error instanceof AttemptFailure)) return { retry: false };
  if (error.network) {
    if (error.network.tls) return { retry: false };
    return { retry: idempotent || error.network.notSent };
  }
  const status = error.status ?? 0;
  if (!RETRYABLE_STATUSES.has(status)) return { retry: false };
  if (!idempotent && !UNPROCESSED_STATUSES.has(status)) return { retry: false };
  const delayMs =
    error.retryAfterMs === undefined ? undefined : Math.min(error.retryAfterMs, policy.maxRetryAfterMs);
  return { retry: true, delayMs };
}

function describeFailure(error: unknown): string {
  if (!(error instanceof AttemptFailure)) return 'unexpected error';
  if (error.network) return error.network.reason;
  return `HTTP ${error.status} ${STATUS_CODES[error.status ?? 0] ?? ''}`.trim();
}

function finalError(
  transport: Transport,
  failure: AttemptFailure,
  call: string,
  attempts: number,
  idempotent: boolean,
): ToolkitApiError {
  const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
  const scrub = (text: string) => scrubSecrets(text, transport.secrets());
  if (failure.network) {
    const { reason, tls, notSent } = failure.network;
    const notRetried = !idempotent && !notSent ? '; not retried: the server may have processed it' : '';
    return new ToolkitApiError(
      'unreachable',
      scrub(`${call} to ${transport.origin} failed: ${reason} (${tries}${notRetried})`),
      {
        call,
        hint: tls
          ? 'If the API uses a private certificate authority, point NODE_EXTRA_CA_CERTS at its certificate (PEM)'
          : `Check ${transport.urlSetting}, the network, and HTTPS_PROXY/NO_PROXY`,
      },
    );
  }
  const status = failure.status ?? 0;
  const statusLine = `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;
  const said = failure.serverMessage
    ? `; server said: ${failure.serverMessage}`
    : failure.withheld
      ? '; the body is withheld because it looks like a token'
      : '';
  const details = { call, status, serverMessage: failure.serverMessage };
  if (status === 401) {
    return new ToolkitApiError(
      'auth',
      `${call} failed with ${statusLine}: the token is invalid, expired or revoked${said}`,
      {
        ...details,
        hint:
          'A personal token (`eai login token`) expires within the hour; in CI use a role key ' +
          '(`eai role key new <org>.<account>.<role>`)',
      },
    );
  }
  if (status === 403) {
    return new ToolkitApiError(
      'auth',
      `${call} failed with ${statusLine}: the token's role lacks a policy for this call${said}`,
      {
        ...details,
        hint: 'Grant the role a policy for this call, e.g. `job:new@<account urn>` to submit jobs or `job:get@…` to read them',
      },
    );
  }
  if (status >= 500) {
    const notRetried =
      !idempotent && !UNPROCESSED_STATUSES.has(status)
        ? '; not retried: the server may have processed it'
        : '';
    return new ToolkitApiError(
      'unreachable',
      `${call} failed with ${statusLine} (${tries}${notRetried})${said}`,
      details,
    );
  }
  const after = status === 429 ? ` (${tries})` : '';
  return new ToolkitApiError('api', `${call} failed with ${statusLine}${after}${said}`, details);
}

/** The server's own words: `{"error":{"message"}}`, `{"message"}`, or the text; redacted, one line, ~300 chars. */
function serverMessageOf(body: string, transport: Transport): string | undefined {
  const secrets = transport.secrets();
  let text = body.trim();
  if (text === '') return undefined;
  try {
    const json = JSON.parse(text) as { error?: unknown; message?: unknown } | null;
    const nested = (json?.error as { message?: unknown } | undefined)?.message;
    const found = [nested, json?.error, json?.message].find((m) => typeof m === 'string' && m.trim() !== '');
    if (typeof found === 'string') text = found;
  } catch {
    // Not JSON: the text itself is the message.
  }
  // An HTML error page (a proxy's, say) says little in its markup.
  if (text.startsWith('<')) text = text.replace(/<[^>]*>/g, ' ');
  // Scrub before cutting: a cut could leave half a token that no longer matches.
  text = scrubSecrets(text, secrets);
  if (transport.redact) text = transport.redact(text);
  text = text.replace(/[\s\x00-\x1f\x7f]+/g, ' ').trim();
  if (text.length > MAX_SERVER_MESSAGE_CHARS) text = `${text.slice(0, MAX_SERVER_MESSAGE_CHARS)}…`;
  text = scrubSecrets(text, secrets);
  return text === '' ? undefined : text;
}

/** Removes every form (see `formsOf`) of each secret the transport knows from a text. */
function scrubSecrets(text: string, secrets: readonly string[]): string {
  const known = new Secrets();
  for (const secret of secrets) known.add(secret);
  return known.redact(text);
}
