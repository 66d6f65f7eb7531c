/**
 * packages/core run in a child process of its own, for checks that must watch a real process's raw output
 * (NODE_DEBUG writes to the process's stderr, which jest's own process cannot capture cleanly) when no
 * entry point can reach the code path quickly: the hung-API timeout (the actions' per-attempt timeout is a
 * fixed 30 s; the probe gives the client a short one).
 *
 * The core sources are transpiled one by one with swc into a temp dir (their imports already end in .js),
 * next to a `node_modules` link to the repository's, so `undici` resolves exactly as in the repository.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transformFile } from '@swc/core';
import { REPO_ROOT } from './nodes.js';

export interface CoreProbe {
  /** The probe script: `node probe.mjs API_URL TIMEOUT_MS`, the token on stdin. */
  script: string;
  cleanup(): Promise<void>;
}

export interface ProbeRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

// Prints one JSON line per retry and one for the outcome on stdout; util.inspect of the error on stderr,
// as a crash handler or a careless `console.error(error)` would.
const PROBE_SOURCE = `import { inspect } from 'node:util';
import { ToolkitClient } from './core/client.js';

const [apiUrl, timeoutMs] = process.argv.slice(2);
let token = '';
for await (const chunk of process.stdin) token += chunk;
const client = new ToolkitClient({
  apiUrl,
  token,
  timeoutMs: Number(timeoutMs),
  retry: { baseDelayMs: 10 },
  onRetry: (info) => console.log(JSON.stringify({ retry: info })),
});
try {
  const me = await client.me();
  console.log(JSON.stringify({ ok: true, id: me.id }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, kind: error.kind, name: error.name, message: error.message }));
  console.error(inspect(error, { depth: 6, showHidden: true }));
  process.exitCode = 4;
} finally {
  await client.close();
}
`;

/** Transpiles packages/core/src into a temp dir and writes the probe script next to it. */
export async function buildCoreProbe(): Promise<CoreProbe> {
  const dir = await mkdtemp(join(tmpdir(), 'toolkit-ci-core-probe-'));
  const source = join(REPO_ROOT, 'packages', 'core', 'src');
  await mkdir(join(dir, 'core'));
  for (const file of (await readdir(source)).filter((name) => name.endsWith('.ts'))) {
    try {
      const { code } = await transformFile(join(source, file), {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
        swcrc: false,
      });
      await writeFile(join(dir, 'core', file.replace(/\.ts$/, '.js')), code);
    } catch {
      // A file another change left half-written is not needed by the probe (it imports client.js only).
    }
  }
  await writeFile(join(dir, 'package.json'), '{"type":"module"}\n');
  await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const script = join(dir, 'probe.mjs');
  await writeFile(script, PROBE_SOURCE);
  return { script, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs the probe with the token on stdin; `onSpawn` gets its pid (for the process sampler). */
export function runCoreProbe(
  probe: CoreProbe,
  options: {
    apiUrl: string;
    timeoutMs: number;
    token: string;
    env: Record<string, string>;
    node?: string;
    onSpawn?: (pid: number) => void;
  },
): Promise<ProbeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      options.node ?? process.execPath,
      [probe.script, options.apiUrl, String(options.timeoutMs)],
      {
        env: options.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('spawn', () => {
      if (child.pid !== undefined) options.onSpawn?.(child.pid);
    });
    child.on('error', reject);
    child.on('close', (exitCode) => resolve({ exitCode, stdout, stderr }));
    child.stdin.end(options.token);
  });
}
