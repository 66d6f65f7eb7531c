import { spawn } from 'node:child_process';
import { ToolkitCiError } from './errors.js';
import { validateRegistryHost } from './registry.js';
import { formsOf, Secrets } from './secrets.js';
import type { Token } from './token.js';

export interface DockerOptions {
  /** Sets DOCKER_CONFIG for the child: an isolated directory for config.json. */
  dockerConfig?: string;
  /** The docker executable; default 'docker', looked up on the PATH of `env`. */
  dockerPath?: string;
  /** The child's environment; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Redacts captured output (the token being logged in with is always redacted as well). */
  secrets?: Secrets;
  /** Default 120000; the child is killed and the call fails when it takes longer. */
  timeoutMs?: number;
}

/** What docker printed (stdout and stderr, interleaved as they arrived), redacted. */
export interface DockerResult {
  output: string;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const TAIL_LINES = 20;

/** Logs the docker CLI in to `host` as `console` with the token on stdin (never in argv or env). */
export async function dockerLogin(
  host: string,
  token: Token,
  options: DockerOptions = {},
): Promise<DockerResult> {
  const registry = validateRegistryHost(host);
  const own = new Secrets();
  own.add(token);
  const redact = (text: string) =>
    options.secrets ? options.secrets.redact(own.redact(text)) : own.redact(text);
  const env = childEnv(options, [...formsOf(token.value), ...(options.secrets?.forms ?? [])]);
  const run = await runDocker(['login', '-u', 'console', '--password-stdin', registry], token.value, env, {
    options,
    redact,
    what: `docker login ${registry}`,
    timeoutKind: 'unreachable',
    timeoutHint:
      'The registry may be unreachable or very slow: check the host name, the network and the proxy settings ' +
      '(HTTPS_PROXY/NO_PROXY)',
  });
  if (run.code === 0) return { output: run.output };
  throw loginError(registry, run);
}

/** Removes the docker CLI's credentials for `host`; not being logged in counts as success. */
export async function dockerLogout(host: string, options: DockerOptions = {}): Promise<DockerResult> {
  const registry = validateRegistryHost(host);
  const redact = (text: string) => options.secrets?.redact(text) ?? text;
  const env = childEnv(options, options.secrets?.forms ?? []);
  const run = await runDocker(['logout', registry], undefined, env, {
    options,
    redact,
    what: `docker logout ${registry}`,
    timeoutKind: 'docker',
    timeoutHint: 'A credential helper configured in config.json may be waiting for input',
  });
  // Older docker CLIs exit 1 with "Not logged in to HOST"; the goal (no credentials left) is reached.
  if (run.code === 0 || /not logged in/i.test(run.output)) return { output: run.output };
  throw failure(`docker logout ${registry}`, run);
}

/**
 * The child's environment: DOCKER_CONFIG when asked, and without any variable holding a secret (such as
 * an exported EAI_TOKEN), so the token reaches docker through stdin only.
 */
function childEnv(options: DockerOptions, secretForms: readonly string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
  if (options.dockerConfig !== undefined) env.DOCKER_CONFIG = options.dockerConfig;
  for (const [name, value] of Object.entries(env)) {
    if (value && secretForms.some((form) => value.includes(form))) delete env[name];
  }
  return env;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

interface RunSettings {
  options: DockerOptions;
  redact: (text: string) => string;
  what: string;
  timeoutKind: 'unreachable' | 'docker';
  timeoutHint: string;
}

/** Runs docker without a shell, feeds `stdin` and closes it, and captures redacted output. */
function runDocker(
  args: string[],
  stdin: string | undefined,
  env: NodeJS.ProcessEnv,
  settings: RunSettings,
): Promise<RunResult> {
  const { options, redact, what } = settings;
  const dockerPath = options.dockerPath ?? 'docker';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // Redact the whole capture at once: a secret split across two chunks would escape chunk-wise redaction.
    const output = () => redact(Buffer.concat(chunks).toString('utf8'));
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done();
    };

    const child = spawn(dockerPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      // A grandchild could keep the pipes open; stop reading instead of waiting for it.
      child.stdout.destroy();
      child.stderr.destroy();
      settle(() =>
        reject(
          new ToolkitCiError(
            settings.timeoutKind,
            `${what} did not finish within ${formatDuration(timeoutMs)} and was stopped${tailOf(output())}`,
            { hint: settings.timeoutHint },
          ),
        ),
      );
    }, timeoutMs);

    child.on('error', (error: NodeJS.ErrnoException) => settle(() => reject(spawnError(dockerPath, error))));
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    // EPIPE when docker exits before reading stdin (or never started): its exit code or spawn error says why.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin ?? '');
    child.on('close', (code, signal) => settle(() => resolve({ code, signal, output: output() })));
  });
}

function spawnError(dockerPath: string, error: NodeJS.ErrnoException): ToolkitCiError {
  const where = dockerPath.includes('/') || dockerPath.includes('\\') ? `at "${dockerPath}"` : 'on PATH';
  if (error.code === 'ENOENT') {
    return new ToolkitCiError(
      'docker',
      `The docker CLI was not found (looked for "${dockerPath}" ${where})`,
      {
        hint:
          'Install the docker CLI (the CLI alone is enough; no Docker daemon is needed) and put it on PATH, ' +
          'or give the path of the docker executable',
        cause: error,
      },
    );
  }
  return new ToolkitCiError(
    'docker',
    `The docker CLI ("${dockerPath}" ${where}) could not be run (${error.code})`,
    {
      hint: 'Check that the docker executable exists and is executable by this user',
      cause: error,
    },
  );
}

// Patterns of the docker CLI's (Go's) network and TLS errors, with the short reason each stands for.
const UNREACHABLE: ReadonlyArray<[RegExp, string]> = [
  [/connection refused/i, 'connection refused'],
  [/no such host/i, 'no such host'],
  [/i\/o timeout/i, 'i/o timeout'],
  [/Client\.Timeout|context deadline exceeded|TLS handshake timeout/i, 'timeout'],
  [/network is unreachable|no route to host/i, 'network unreachable'],
  [/connection reset|unexpected EOF/i, 'connection reset'],
  [/": EOF$/, 'connection closed by the registry'],
  [/proxyconnect/i, 'proxy error'],
  [/server gave HTTP response to HTTPS client/i, 'TLS error: the server answered in plain HTTP'],
  [/x509:|tls:|certificate/i, 'TLS error'],
];

/** docker's note that it is falling back from one endpoint (https) to the next (http). */
const FALLBACK_NOTE = /level=info msg="Error logging in to endpoint, trying next endpoint"/;
/** docker's words for a 5xx answer to the login request, e.g. "failed with status: 503 Service Unavailable". */
const SERVER_ERROR = /failed with status: (5\d\d[^"\n]*)/;

/** Maps a failed `docker login` to an auth, unreachable or docker error from what docker printed. */
function loginError(registry: string, run: RunResult): ToolkitCiError {
  const status = /401 Unauthorized|\bunauthorized\b/i.test(run.output)
    ? '401 Unauthorized'
    : /403 Forbidden|\bforbidden\b/i.test(run.output)
      ? '403 Forbidden'
      : undefined;
  if (status) {
    return new ToolkitCiError('auth', `Registry ${registry} refused the token (${status})`, {
      hint:
        'The token is wrong or expired (a personal token lasts about an hour), or its role lacks permission ' +
        'on the registry',
    });
  }
  // On a loopback registry docker tries https, notes the failure at level=info and falls back to http: that
  // note ("server gave HTTP response to HTTPS client") is not why the login failed, so only the other lines
  // are searched for the reason.
  const decisive = run.output
    .split(/\r?\n/)
    .filter((line) => !FALLBACK_NOTE.test(line))
    .join('\n');
  const serverError = lastLineMatching(decisive, SERVER_ERROR);
  if (serverError !== undefined) {
    const status = SERVER_ERROR.exec(serverError)?.[1]?.trim();
    return new ToolkitCiError(
      'unreachable',
      `Registry ${registry} is unreachable (the registry answered HTTP ${status}): ${serverError}`,
      { hint: 'The registry is down or overloaded: run the job again later' },
    );
  }
  for (const [pattern, reason] of UNREACHABLE) {
    const line = lastLineMatching(decisive, pattern);
    if (line !== undefined) {
      return new ToolkitCiError('unreachable', `Registry ${registry} is unreachable (${reason}): ${line}`, {
        hint:
          'Check the host name and port, the network, the proxy settings (HTTPS_PROXY/NO_PROXY) and the ' +
          "registry's TLS certificate",
      });
    }
  }
  return failure(`docker login ${registry}`, run);
}

function failure(what: string, run: RunResult): ToolkitCiError {
  const how = run.code === null ? `was killed by ${run.signal}` : `failed with exit code ${run.code}`;
  return new ToolkitCiError('docker', `${what} ${how}${tailOf(run.output)}`);
}

/** The last ~20 non-empty lines of output for a message, or a note that there were none. */
function tailOf(output: string): string {
  const lines = output.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length === 0) return ' and printed nothing';
  const tail = lines.slice(-TAIL_LINES).map((line) => (line.length > 500 ? `${line.slice(0, 500)}…` : line));
  const skipped = lines.length - tail.length;
  const header =
    skipped > 0
      ? `; its last ${tail.length} lines of output (${skipped} earlier ones left out):`
      : '; its output:';
  return `${header}\n${tail.join('\n')}`;
}

function lastLineMatching(output: string, pattern: RegExp): string | undefined {
  const lines = output.split(/\r?\n/).filter((line) => pattern.test(line));
  const line = lines.at(-1)?.trim();
  return line === undefined ? undefined : line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
