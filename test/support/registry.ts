/**
 * Real Docker registries for tests: Debian's `docker-registry` (CNCF distribution 2.8) on 127.0.0.1 with
 * htpasswd (bcrypt) auth for the user 'console', the way Toolkit's registries accept `console:TOKEN`.
 *
 * One password per instance: distribution's htpasswd reader keeps ONE entry per user (the last line
 * wins, checked against 2.8.2: with two `console:` lines only the second password logs in), so several
 * accepted passwords for 'console' cannot be expressed. It does re-read the file when its mtime changes,
 * which is what setPassword() uses to rotate the password without a restart.
 * The password reaches htpasswd on stdin only; the registry's argv and config.yml never contain it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify as toYaml } from 'yaml';

export const REGISTRY_USER = 'console';

export interface RegistryInstance {
  name: string;
  /** 127.0.0.1:PORT */
  host: string;
  port: number;
  /** Temp dir holding config.yml, htpasswd and data/; removed by stop(). */
  dir: string;
  configPath: string;
  htpasswdPath: string;
  /** The docker-registry process id (e.g. to read /proc/<pid>/cmdline). */
  pid: number;
  /** What the registry printed on stderr so far (for error reports). */
  stderr(): string;
  /** Replaces the accepted password (the registry reloads htpasswd when it changes). */
  setPassword(password: string): Promise<void>;
  /** SIGTERM (then SIGKILL), wait for exit, remove the dir. Idempotent. */
  stop(): Promise<void>;
}

export interface RegistryPair {
  regular: RegistryInstance;
  volatile: RegistryInstance;
  stop(): Promise<void>;
}

const REGISTRY_BIN = 'docker-registry';
const HTPASSWD_BIN = 'htpasswd';
const START_ATTEMPTS = 5;
const READY_POLLS = 200;
const READY_POLL_INTERVAL_MS = 25;
const STOP_GRACE_MS = 5000;
const STDERR_LIMIT = 64 * 1024;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

// A test that forgets stop() must not leave a registry behind after the worker exits.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** True when docker-registry and htpasswd are installed (apt-get install docker-registry apache2-utils). */
export function registryAvailable(): boolean {
  return onPath(REGISTRY_BIN) && onPath(HTPASSWD_BIN);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function validatePassword(password: string): void {
  if (typeof password !== 'string' || password === '') throw new Error('registry password must be non-empty');
  // htpasswd -i reads one line; a newline would silently truncate the password.
  if (/[\r\n]/.test(password)) throw new Error('registry password must not contain a line break');
}

/** Writes `console:<bcrypt>` to file, the password going to htpasswd on stdin only. */
async function writeHtpasswd(file: string, password: string): Promise<void> {
  validatePassword(password);
  const child = spawn(HTPASSWD_BIN, ['-B', '-i', '-c', file, REGISTRY_USER], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  child.stdin.end(password);
  const code = await done;
  if (code !== 0) throw new Error(`htpasswd failed (exit ${code}): ${stderr.trim()}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** GET http://host/v2/ once: the status, or null when nothing answers. */
export function probeRegistry(host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: Number(host.split(':')[1]), path: '/v2/', agent: false });
    req.setTimeout(1000, () => req.destroy());
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on('error', () => resolve(null));
    req.end();
  });
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function launch(
  dir: string,
  configPath: string,
  htpasswdPath: string,
): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  let lastError = '';
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const config = {
      version: 0.1,
      log: { level: 'error', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
      http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
      auth: { htpasswd: { realm: 'basic-realm', path: htpasswdPath } },
    };
    await writeFile(configPath, toYaml(config), { mode: 0o600 });
    // A clean env: distribution reads REGISTRY_* overrides from its environment.
    const child = spawn(REGISTRY_BIN, ['serve', configPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    live.add(child);
    child.on('exit', () => live.delete(child));
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-STDERR_LIMIT);
    });
    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
    });
    const host = `127.0.0.1:${port}`;
    for (let poll = 0; poll < READY_POLLS; poll++) {
      if (spawnError) throw new Error(`Could not start ${REGISTRY_BIN}: ${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) break;
      if ((await probeRegistry(host)) === 401) return { child, port, stderr: () => stderr };
      await sleep(READY_POLL_INTERVAL_MS);
    }
    const exited = child.exitCode !== null || child.signalCode !== null;
    if (!exited) {
      child.kill('SIGKILL');
      await waitForExit(child, STOP_GRACE_MS);
      throw new Error(
        `${REGISTRY_BIN} on ${host} did not answer 401 on /v2/ in time; stderr: ${stderr.trim()}`,
      );
    }
    lastError = stderr.trim();
    // Another process took the port between our probe and the registry's bind: try another one.
    if (!/address already in use/i.test(stderr)) {
      throw new Error(
        `${REGISTRY_BIN} exited (code ${child.exitCode}) before it was ready; stderr: ${lastError}`,
      );
    }
  }
  throw new Error(`${REGISTRY_BIN} could not bind a free port in ${START_ATTEMPTS} attempts: ${lastError}`);
}

/** Starts one registry accepting `console:<password>` (exactly one password; see the file comment). */
export async function startRegistry(options: {
  name?: string;
  passwords: string[];
}): Promise<RegistryInstance> {
  if (options.passwords.length !== 1) {
    throw new Error(
      `startRegistry accepts exactly one password (got ${options.passwords.length}): distribution's htpasswd keeps one entry per user; start one registry per password or use setPassword() to rotate`,
    );
  }
  validatePassword(options.passwords[0] as string);
  installExitHook();
  const name = options.name ?? 'registry';
  const dir = await mkdtemp(join(tmpdir(), `toolkit-ci-registry-${name.replace(/[^a-z0-9_-]/gi, '_')}-`));
  const configPath = join(dir, 'config.yml');
  const htpasswdPath = join(dir, 'htpasswd');
  try {
    await mkdir(join(dir, 'data'));
    await writeHtpasswd(htpasswdPath, options.passwords[0] as string);
    const { child, port, stderr } = await launch(dir, configPath, htpasswdPath);
    let stopping: Promise<void> | undefined;
    return {
      name,
      host: `127.0.0.1:${port}`,
      port,
      dir,
      configPath,
      htpasswdPath,
      pid: child.pid as number,
      stderr,
      async setPassword(password: string) {
        // Write aside and rename, so the registry never reads a half-written file.
        const next = `${htpasswdPath}.next`;
        await writeHtpasswd(next, password);
        await rename(next, htpasswdPath);
      },
      stop() {
        stopping ??= (async () => {
          child.kill('SIGTERM');
          if (!(await waitForExit(child, STOP_GRACE_MS))) {
            child.kill('SIGKILL');
            await waitForExit(child, STOP_GRACE_MS);
          }
          await rm(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Starts a 'regular' and a 'volatile' registry. A list means both accept the same (single) password;
 * an object gives each its own.
 */
export async function startRegistries(
  passwords: string[] | { regular: string[]; volatile: string[] },
): Promise<RegistryPair> {
  const forRegular = Array.isArray(passwords) ? passwords : passwords.regular;
  const forVolatile = Array.isArray(passwords) ? passwords : passwords.volatile;
  const started = await Promise.allSettled([
    startRegistry({ name: 'regular', passwords: forRegular }),
    startRegistry({ name: 'volatile', passwords: forVolatile }),
  ]);
  const [regular, volatile] = started;
  if (regular.status === 'rejected' || volatile.status === 'rejected') {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    throw regular.status === 'rejected' ? regular.reason : (volatile as PromiseRejectedResult).reason;
  }
  return {
    regular: regular.value,
    volatile: volatile.value,
    stop: async () => {
      await Promise.all([regular.value.stop(), volatile.value.stop()]);
    },
  };
}
