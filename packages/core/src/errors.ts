/**
 * Every error the project raises on purpose. `kind` lets adapters pick an exit code or a message style
 * without parsing text; `hint` says how to fix it. Messages never contain a secret: they describe shapes,
 * statuses and server messages, and adapters still pass them through `Secrets.redact` before printing.
 */
export type ErrorKind =
  | 'usage' // bad input: a flag, an action input, a token's shape
  | 'auth' // 401/403 from Toolkit or a registry
  | 'unreachable' // network errors, timeouts, 5xx after retries
  | 'api' // any other unexpected answer from Toolkit
  | 'docker' // the docker CLI is missing or failed
  | 'job-failed'; // a Toolkit job ended in a state other than SUCCEEDED

export class ToolkitCiError extends Error {
  readonly kind: ErrorKind;
  readonly hint?: string;

  constructor(kind: ErrorKind, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(options.hint ? `${message}. ${options.hint}` : message, { cause: options.cause });
    this.name = 'ToolkitCiError';
    this.kind = kind;
    this.hint = options.hint;
  }
}

/** Documented process exit codes of every entry point (see README "Exit codes"). */
export const EXIT_CODES: Record<ErrorKind | 'ok' | 'internal', number> = {
  ok: 0,
  internal: 1,
  usage: 2,
  auth: 3,
  unreachable: 4,
  api: 5,
  docker: 6,
  'job-failed': 7,
};

export function exitCodeOf(error: unknown): number {
  return error instanceof ToolkitCiError ? EXIT_CODES[error.kind] : EXIT_CODES.internal;
}
