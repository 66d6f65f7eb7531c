#!/usr/bin/env node
// toolkit-emulator: runs the emulator until SIGINT/SIGTERM. Node built-ins only, so the bundle stays small
// and starts fast.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEMO_TOKENS } from './demo.js';
import { startEmulator } from './emulator.js';
import type { EmulatorHandle, EmulatorOptions } from './types.js';

export interface TextSink {
  write(text: string): unknown;
}

export interface BinResult {
  /** 0 when running (or after --help), 2 for a usage error. */
  exitCode: number;
  /** The running emulator; the caller closes it. */
  emulator?: EmulatorHandle;
}

export const USAGE = `Usage: toolkit-emulator [options]

A local emulator of the Toolkit API: API, in-job token endpoint and registry login endpoints.

Options:
  --host H                      address to listen on (default 127.0.0.1)
  --port N                      API port (default 0: any free port)
  --internal-port N             in-job token endpoint port (default 0)
  --registry-port N             registry login endpoint port (default 0)
  --volatile-registry-port N    volatile registry login endpoint port (default 0)
  --time-scale MS               real milliseconds per emulated second of job time (default 1000)
  -h, --help                    show this help

Runs until SIGINT or SIGTERM. Control endpoints: <API>/_emulator (faults, journal, reset).
`;

const PORT_FLAGS: Record<string, keyof EmulatorOptions> = {
  '--port': 'port',
  '--internal-port': 'internalPort',
  '--registry-port': 'registryPort',
  '--volatile-registry-port': 'volatileRegistryPort',
};

type Parsed =
  | { kind: 'help' }
  | { kind: 'error'; message: string }
  | { kind: 'run'; options: EmulatorOptions };

/** Parses the command line (`--flag value` or `--flag=value`). */
export function parseArgs(argv: readonly string[]): Parsed {
  const options: EmulatorOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const known = flag in PORT_FLAGS || flag === '--host' || flag === '--time-scale';
    if (!known) return { kind: 'error', message: `unknown option ${flag}` };
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') return { kind: 'error', message: `${flag} needs a value` };
    if (flag === '--host') {
      options.host = value;
    } else if (flag === '--time-scale') {
      const scale = Number(value);
      if (!Number.isFinite(scale) || scale < 0)
        return { kind: 'error', message: '--time-scale must be a number >= 0' };
      options.timeScale = scale;
    } else {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        return { kind: 'error', message: `${flag} must be a port number (0-65535)` };
      }
      (options as Record<string, number>)[PORT_FLAGS[flag]!] = port;
    }
  }
  return { kind: 'run', options };
}

function banner(emulator: EmulatorHandle, timeScale: number): string {
  const lines = [
    'Toolkit emulator running',
    `  API:                ${emulator.url}   (paths /v1/...; spec at /v1/swagger.json)`,
    `  in-job token:       ${emulator.internalUrl}/v1/token`,
    `  registry:           ${emulator.registryHost}`,
    `  volatile registry:  ${emulator.volatileRegistryHost}`,
    `  control:            ${emulator.adminUrl}   (faults, journal, reset)`,
    `  time scale:         ${timeScale} ms per emulated second`,
    'Demo tokens accepted (demo values, not secrets):',
    ...DEMO_TOKENS.map((t) => {
      const rights = (t.permissions ?? ['*:*@*']).join(' ');
      const lifetime = t.kind === 'role' ? '' : ' (expires 1 h after start, like a real one)';
      return `  ${t.kind.padEnd(9)} ${t.token.padEnd(28)} ${t.identity?.fullName ?? ''} [${rights}]${lifetime}`;
    }),
    'Stop with Ctrl+C.',
  ];
  return `${lines.join('\n')}\n`;
}

/** Runs the CLI in-process: starts the emulator and prints where it listens, or prints help/usage errors. */
export async function runBin(
  argv: readonly string[],
  out: TextSink,
  err: TextSink = out,
): Promise<BinResult> {
  const parsed = parseArgs(argv);
  if (parsed.kind === 'help') {
    out.write(USAGE);
    return { exitCode: 0 };
  }
  if (parsed.kind === 'error') {
    err.write(`toolkit-emulator: ${parsed.message}\n\n${USAGE}`);
    return { exitCode: 2 };
  }
  try {
    const emulator = await startEmulator(parsed.options);
    out.write(banner(emulator, parsed.options.timeScale ?? 1000));
    return { exitCode: 0, emulator };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    err.write(`toolkit-emulator: cannot start (${code ?? (error as Error).message})\n`);
    return { exitCode: 1 };
  }
}

/** The process entry: runs until SIGINT/SIGTERM, then closes the listeners and exits 0. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const { exitCode, emulator } = await runBin(argv, process.stdout, process.stderr);
  if (!emulator) {
    process.exitCode = exitCode;
    return;
  }
  const stop = () => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) void main();
