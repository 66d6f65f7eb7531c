// The toolkit-emulator CLI, run in-process through runBin (the bundled bin is tested by the project's
// cross-package suites).
import { createServer } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { parseArgs, runBin } from '../src/bin.js';
import { DEMO_TOKENS } from '../src/index.js';
import { call, ROLE_TOKEN } from './helpers.js';

function sink() {
  const chunks: string[] = [];
  return { write: (text: string) => chunks.push(text), text: () => chunks.join('') };
}

/** A port that was free a moment ago (the OS picks it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('parseArgs', () => {
  it('reads every flag in --flag value and --flag=value forms', () => {
    expect(
      parseArgs([
        '--port',
        '8080',
        '--internal-port=8081',
        '--registry-port',
        '5000',
        '--volatile-registry-port=5001',
        '--time-scale',
        '2.5',
        '--host',
        '0.0.0.0',
      ]),
    ).toEqual({
      kind: 'run',
      options: {
        port: 8080,
        internalPort: 8081,
        registryPort: 5000,
        volatileRegistryPort: 5001,
        timeScale: 2.5,
        host: '0.0.0.0',
      },
    });
  });

  it('refuses unknown flags, missing values, bad ports and bad time scales', () => {
    expect(parseArgs(['--nope'])).toEqual({ kind: 'error', message: 'unknown option --nope' });
    expect(parseArgs(['--port'])).toEqual({ kind: 'error', message: '--port needs a value' });
    expect(parseArgs(['--port', '70000'])).toEqual({
      kind: 'error',
      message: '--port must be a port number (0-65535)',
    });
    expect(parseArgs(['--time-scale', 'fast'])).toEqual({
      kind: 'error',
      message: '--time-scale must be a number >= 0',
    });
    expect(parseArgs(['-h'])).toEqual({ kind: 'help' });
  });
});

describe('runBin', () => {
  it('prints help and starts nothing for --help', async () => {
    const out = sink();
    const result = await runBin(['--help'], out);
    expect(result).toEqual({ exitCode: 0 });
    expect(out.text()).toContain('Usage: toolkit-emulator [options]');
    expect(out.text()).toContain('--volatile-registry-port N');
  });

  it('exits 2 with the usage on stderr for a bad flag', async () => {
    const out = sink();
    const err = sink();
    const result = await runBin(['--colour', 'red'], out, err);
    expect(result.exitCode).toBe(2);
    expect(result.emulator).toBeUndefined();
    expect(err.text()).toMatch(/^toolkit-emulator: unknown option --colour\n/);
    expect(out.text()).toBe('');
  });

  it('starts the emulator, prints every listener and the demo tokens, and serves the API', async () => {
    const out = sink();
    const port = await freePort();
    const { exitCode, emulator } = await runBin(['--port', String(port), '--time-scale', '3'], out);
    try {
      expect(exitCode).toBe(0);
      expect(emulator!.url).toBe(`http://127.0.0.1:${port}`);
      const text = out.text();
      for (const where of [
        emulator!.url,
        `${emulator!.internalUrl}/v1/token`,
        emulator!.registryHost,
        emulator!.volatileRegistryHost,
        emulator!.adminUrl,
      ]) {
        expect(text).toContain(where);
      }
      for (const demo of DEMO_TOKENS) expect(text).toContain(demo.token);
      expect(text).toContain('3 ms per emulated second');
      const me = await call(emulator!.url, 'GET', '/v1/me', { token: ROLE_TOKEN });
      expect(me.json.fullName).toBe('demo.ci.pusher');
    } finally {
      await emulator?.close();
    }
  });

  it('exits 1 with the reason when a port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const err = sink();
      const result = await runBin(['--registry-port', String(port)], sink(), err);
      expect(result.exitCode).toBe(1);
      expect(err.text()).toBe('toolkit-emulator: cannot start (EADDRINUSE)\n');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
