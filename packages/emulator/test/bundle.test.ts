// The committed bundle is what people run (`npm run emulator`): start it as a real process, call the API
// it announces with the demo token, and stop it with SIGTERM.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from '@jest/globals';

const BUNDLE = new URL('../dist/index.js', import.meta.url).pathname;

describe('the bundled toolkit-emulator bin', () => {
  it('starts, answers GET /v1/me for the demo token, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [BUNDLE, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        const match = /API:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (match) resolve(match[1]);
      });
      child.once('exit', (code) =>
        reject(new Error(`the emulator exited (${code}) before listening:\n${out}`)),
      );
    });
    const response = await fetch(`${url}/v1/me`, {
      headers: { authorization: 'Bearer demo-access:demo-secret' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ fullName: 'demo.ci.pusher' });
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });
});
