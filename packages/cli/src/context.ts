/**
 * What every command gets: the process's environment, a redacting printer and the set of secrets it
 * redacts, plus the helpers that turn the shared flags (token source, api-url) into core objects.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import {
  assertApiBaseUrl,
  DEFAULT_API_URL,
  parseToken,
  type Secrets,
  type Token,
  ToolkitCiError,
  ToolkitClient,
} from '../../core/src/index.js';
import { type ParsedValues, stringValue } from './args.js';
import type { Output, TextSink } from './output.js';

export const DEFAULT_TOKEN_ENV = 'EAI_TOKEN';

/** The process around the CLI; tests pass their own. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: TextSink;
  stderr: TextSink;
  /** All of stdin as text (read once). */
  readStdin(): Promise<string>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM): long-running commands wait on it. */
  stopRequested(): Promise<string>;
}

export interface CliContext {
  io: CliIo;
  out: Output;
  secrets: Secrets;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads the token from `--token-file PATH|-` or from the environment variable `--token-env NAME`
 * (default EAI_TOKEN), registers every form of it for redaction before anything else happens, and parses it.
 */
export async function readToken(values: ParsedValues, ctx: CliContext): Promise<Token> {
  const file = stringValue(values, 'token-file');
  const envName = stringValue(values, 'token-env');
  if (file !== undefined && envName !== undefined) {
    throw new ToolkitCiError('usage', '--token-file and --token-env were both given', {
      hint: 'Read the token from one place: an environment variable (--token-env NAME) or a file (--token-file PATH|-)',
    });
  }
  let raw: string;
  let source: string;
  if (file !== undefined) {
    source = file === '-' ? 'stdin' : `file ${JSON.stringify(file)}`;
    raw = file === '-' ? await ctx.io.readStdin() : await readTokenFile(resolvePath(ctx, file));
    // A file or a pipe normally ends with one newline: that is not worth a warning.
    raw = raw.replace(/\r?\n$/, '');
  } else {
    const name = envName ?? DEFAULT_TOKEN_ENV;
    if (!ENV_NAME.test(name)) {
      throw new ToolkitCiError(
        'usage',
        `--token-env ${JSON.stringify(name)} is not an environment variable name`,
        {
          hint: 'Give the name of the variable that holds the token, e.g. --token-env TOOLKIT_TOKEN',
        },
      );
    }
    source = `environment variable ${name}`;
    raw = ctx.io.env[name] ?? '';
    if (raw === '') {
      throw new ToolkitCiError('usage', `No token: the environment variable ${name} is not set or empty`, {
        hint:
          `Set ${name} from your CI's secret store (a masked variable, a credential binding), name another ` +
          'variable with --token-env NAME, or pass a file or stdin with --token-file PATH|-. A token is never ' +
          'accepted as a command-line value',
      });
    }
  }
  ctx.secrets.addRaw(raw);
  const { token, warnings } = parseToken(raw, source);
  ctx.secrets.add(token);
  for (const warning of warnings) ctx.out.warning(warning);
  return token;
}

async function readTokenFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is a directory'
          : `cannot be read (${code})`;
    throw new ToolkitCiError('usage', `The token file ${JSON.stringify(path)} (--token-file) ${why}`, {
      hint: 'Give the path of a file holding only the token, or - to read it from stdin',
    });
  }
}

/** `--api-url`, else $EAI_CONSOLE_URL, else the public console; refused when it would put the token at risk. */
export function resolveApiUrl(values: ParsedValues, env: NodeJS.ProcessEnv): string {
  const flag = stringValue(values, 'api-url');
  const fromEnv = env.EAI_CONSOLE_URL?.trim();
  const [value, what] =
    flag !== undefined
      ? [flag, '--api-url']
      : fromEnv
        ? [fromEnv, 'EAI_CONSOLE_URL']
        : [DEFAULT_API_URL, 'api-url'];
  const url = assertApiBaseUrl(value, what);
  return (url.origin + url.pathname).replace(/\/+$/, '');
}

/** A Toolkit client whose server messages are redacted and whose retries are reported on stderr. */
export function toolkitClient(ctx: CliContext, apiUrl: string, token: Token): ToolkitClient {
  return new ToolkitClient({
    apiUrl,
    token: token.value,
    userAgent: 'toolkit-ci-cli',
    redact: (text) => ctx.secrets.redact(text),
    onRetry: ({ call, attempt, delayMs, reason }) =>
      ctx.out.note(`${call} failed (${reason}); attempt ${attempt + 1} in ${(delayMs / 1000).toFixed(1)} s`),
  });
}

/** A path from a flag, relative to the working directory. */
export function resolvePath(ctx: CliContext, path: string): string {
  return isAbsolute(path) ? path : resolve(ctx.io.cwd, path);
}
