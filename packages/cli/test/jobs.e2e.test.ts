// toolkit-ci job ..., api and emulator, run from the committed bundle against the Toolkit emulator.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmulatorHandle, startEmulator } from '../../../packages/emulator/src/index.js';
import { expectNoLeak } from '../../../test/support/leaks.js';
import { Cleanup, type CliResult, expectNoTokenInOutput, runCli } from './run-cli.js';

const TOKEN = 'jobs-access:jobs/secret+value=';
const READONLY = 'reader-access:reader-secret';
// A job that never ends on its own: `sleep` in emulated seconds (5 ms each), longer than any test.
const FOREVER = 'echo started; sleep 100000';

let emulator: EmulatorHandle;
let work: string;
const cleanup = new Cleanup();

beforeAll(async () => {
  emulator = await startEmulator({ timeScale: 5 });
  emulator.addToken({ token: TOKEN, kind: 'role', identity: { fullName: 'acme.ml.runner' } });
  emulator.addToken({
    token: READONLY,
    kind: 'role',
    identity: { fullName: 'acme.ml.reader' },
    permissions: ['*:get@*'],
  });
  work = await mkdtemp(join(tmpdir(), 'toolkit-ci-jobs-e2e-'));
});
afterAll(async () => {
  await cleanup.run();
  await emulator?.close();
  await rm(work, { recursive: true, force: true });
});

function cli(args: string[], options: Parameters<typeof runCli>[1] = {}): Promise<CliResult> {
  return runCli(args, {
    ...options,
    env: { EAI_TOKEN: TOKEN, EAI_CONSOLE_URL: emulator.url, TOOLKIT_CI_POLL_MS: '10', ...options.env },
  }).then((result) => cleanup.add(result));
}

function expectClean(result: CliResult, token = TOKEN): void {
  expectNoTokenInOutput(result, token);
}

const firstLine = (text: string) => text.split('\n')[0] as string;

describe('job submit', () => {
  it('maps every flag onto the JobSpec and prints only the job id on stdout', async () => {
    const result = await cli(
      [
        'job',
        'submit',
        '--image',
        'registry.example.com/acme.ml/trainer:1',
        '--command',
        'python train.py',
        '--env',
        'A=1',
        '--env',
        'FROM_ENV',
        '--data',
        'acme.ml.data@v2:/data:ro',
        '--cpu',
        '2',
        '--mem',
        '8',
        '--gpu',
        '1',
        '--gpu-mem',
        '16',
        '--gpu-model',
        'A100',
        '--name',
        'train_1',
        '--tag',
        'team=ml',
        '--restartable',
        '--max-run-time',
        '2h',
      ],
      { env: { FROM_ENV: 'value-from-env' } },
    );
    expect(result.stderr).not.toContain('toolkit-ci: error');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    const job = emulator.job(firstLine(result.stdout));
    expect(job?.jobspec).toMatchObject({
      image: 'registry.example.com/acme.ml/trainer:1',
      command: ['/bin/sh', '-c', 'python train.py'],
      environmentVars: ['A=1', 'FROM_ENV=value-from-env'],
      data: ['acme.ml.data@v2:/data:ro'],
      resources: { cpu: 2, mem: 8, gpu: 1, gpuMem: 16, gpuModel: 'A100' },
      name: 'train_1',
      tags: [{ key: 'team', value: 'ml' }],
      restartable: true,
      maxRunTime: 7200,
    });
    expect(result.stderr).toMatch(/Submitted job acme\.ml\.train_1 \(/);
    expectClean(result);
  });

  it('--follow streams the log and exits 0 when the job SUCCEEDED', async () => {
    const result = await cli([
      'job',
      'submit',
      '--image',
      'alpine',
      '--command',
      'echo one; sleep 1; echo two',
      '--follow',
    ]);
    expect(result.code).toBe(0);
    const [id, ...log] = result.stdout.split('\n');
    expect(log.join('\n')).toBe('one\ntwo\n');
    expect(result.stderr).toContain(`job ${id} SUCCEEDED, exit code 0: exited with code 0\n`);
  });

  it('--wait exits 7 with the state, exit code and state info when the job fails; --json prints the final job', async () => {
    const result = await cli([
      'job',
      'submit',
      '--image',
      'alpine',
      '--command',
      'echo bad; exit 3',
      '--wait',
      '--json',
    ]);
    expect(result.code).toBe(7);
    expect(JSON.parse(result.stdout)).toMatchObject({ state: 'FAILED', alive: false });
    expect(result.stderr).toMatch(/toolkit-ci: error: job .* FAILED, exit code 3: exited with code 3/);
    // without --follow, the log is not streamed
    expect(result.stderr).not.toContain('bad\n');
  });

  it('--timeout-minutes cancels a job that runs too long and exits 7', async () => {
    const result = await cli([
      'job',
      'submit',
      '--image',
      'alpine',
      '--command',
      FOREVER,
      '--wait',
      '--timeout-minutes',
      '0.002',
    ]);
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(/did not end within 0\.002 minutes; it was cancelled/);
    const job = emulator.job(firstLine(result.stdout));
    expect(['CANCELLING', 'CANCELLED']).toContain(job?.state);
  });

  it('SIGTERM while waiting (a cancelled CI job) cancels the Toolkit job and exits 7', async () => {
    let signalled = false;
    const result = await cli(['job', 'submit', '--image', 'alpine', '--command', FOREVER, '--follow'], {
      onStdout: (soFar, child) => {
        if (!signalled && soFar.includes('started\n')) {
          signalled = true;
          child.kill('SIGTERM');
        }
      },
    });
    expect(signalled).toBe(true);
    expect(result.code).toBe(7);
    expect(result.stderr).toMatch(/still running when toolkit-ci was stopped \(SIGTERM\); it was cancelled/);
    expect(emulator.job(firstLine(result.stdout))?.state).toBe('CANCELLED');
  });

  it('bad flags exit 2 naming the flag, before anything is sent', async () => {
    const before = emulator.journal.length;
    const cpu = await cli(['job', 'submit', '--image', 'alpine', '--cpu', 'lots']);
    expect(cpu.code).toBe(2);
    expect(cpu.stderr).toContain('--cpu must be a number > 0, not "lots"');
    const noImage = await cli(['job', 'submit', '--command', 'echo x']);
    expect(noImage.code).toBe(2);
    expect(noImage.stderr).toContain('the JobSpec has no image');
    const unsetEnv = await cli(['job', 'submit', '--image', 'alpine', '--env', 'NOT_SET_ANYWHERE']);
    expect(unsetEnv.code).toBe(2);
    expect(unsetEnv.stderr).toContain(
      '--env NOT_SET_ANYWHERE: the environment variable NOT_SET_ANYWHERE is not set',
    );
    expect(emulator.journal.length).toBe(before);
  });

  it('a role without job:new exits 3 naming the missing policy', async () => {
    const result = await cli(['job', 'submit', '--image', 'alpine'], { env: { EAI_TOKEN: READONLY } });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/POST \/v1\/job failed with HTTP 403.*missing policy job:new/);
    expectClean(result, READONLY);
  });

  it('an environment value taken from the environment is redacted from the streamed log; short ones are not', async () => {
    const result = await cli(
      [
        'job',
        'submit',
        '--image',
        'alpine',
        '--env',
        'API_KEY',
        '--env',
        'N=1',
        '--command',
        'echo key=$API_KEY n=$N',
        '--follow',
      ],
      { env: { API_KEY: 'sk-0123456789abcdef' } },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('key=*** n=1\n');
    expectNoLeak('sk-0123456789abcdef', [{ name: 'stdout', text: result.stdout }]);
  });

  it('--spec reads a YAML file, the flags override it', async () => {
    const spec = join(work, 'job.yml');
    await writeFile(
      spec,
      'image: alpine\ncommand: ["/bin/sh", "-c", "echo from file"]\nenvironmentVars: ["A=file", "B=file"]\n',
    );
    const result = await cli(['job', 'submit', '--spec', spec, '--env', 'A=flag', '--follow']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('from file\n');
    expect(emulator.job(firstLine(result.stdout))?.jobspec.environmentVars).toEqual(['A=flag', 'B=file']);
  });
});

describe('job get, logs, wait, cancel', () => {
  async function submitted(command: string): Promise<string> {
    const result = await cli(['job', 'submit', '--image', 'alpine', '--command', command]);
    expect(result.code).toBe(0);
    return firstLine(result.stdout);
  }

  it('wait --follow streams a finished job and exits 0; logs prints the whole log; get describes it', async () => {
    const id = await submitted('echo a; echo b');
    const wait = await cli(['job', 'wait', id, '--follow']);
    expect(wait.code).toBe(0);
    expect(wait.stdout).toBe('a\nb\n');
    const logs = await cli(['job', 'logs', id]);
    expect(logs.stdout).toBe('a\nb\n');
    const get = await cli(['job', 'get', id]);
    expect(get.stdout).toMatch(new RegExp(`^id: ${id}\nstate: SUCCEEDED\nalive: false\nexit code: 0\n`));
  });

  it('wait exits 7 for a failed job; logs --follow too', async () => {
    const id = await submitted('exit 2');
    const wait = await cli(['job', 'wait', id]);
    expect(wait.code).toBe(7);
    const logs = await cli(['job', 'logs', id, '--follow']);
    expect(logs.code).toBe(7);
  });

  it('wait --timeout-minutes leaves a job it did not submit running', async () => {
    const id = await submitted(FOREVER);
    const wait = await cli(['job', 'wait', id, '--timeout-minutes', '0.001']);
    expect(wait.code).toBe(7);
    expect(wait.stderr).toContain('it was left running');
    expect(emulator.job(id)?.alive).toBe(true);
    const cancel = await cli(['job', 'cancel', id, '--wait']);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toBe(`${id} CANCELLED\n`);
  });

  it('an unknown job exits 5 with the server message', async () => {
    const result = await cli(['job', 'get', '00000000-0000-0000-0000-000000000000']);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/GET \/v1\/job\/\{id\} failed with HTTP 404/);
  });
});

describe('api', () => {
  it('GET prints the JSON answer', async () => {
    const result = await cli(['api', 'get', '/v1/me']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ fullName: 'acme.ml.runner' });
  });

  it('POST --data @FILE sends the body; --data @- reads stdin', async () => {
    const file = join(work, 'body.json');
    await writeFile(file, JSON.stringify({ image: 'alpine', command: ['echo', 'x'] }));
    const fromFile = await cli(['api', 'POST', '/v1/job', '--data', `@${file}`]);
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ state: 'QUEUING', jobspec: { image: 'alpine' } });
    const fromStdin = await cli(['api', 'POST', '/v1/job', '--data', '@-'], {
      stdin: '{"image": "busybox"}',
    });
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ jobspec: { image: 'busybox' } });
  });

  it('refuses a bad method, path or body with exit 2; a 4xx answer exits 5', async () => {
    expect((await cli(['api', 'FETCH', '/v1/me'])).code).toBe(2);
    expect((await cli(['api', 'GET', 'v1/me'])).code).toBe(2);
    const body = await cli(['api', 'POST', '/v1/job', '--data', '{not json']);
    expect(body.code).toBe(2);
    expect(body.stderr).toContain('--data is not valid JSON (9 characters)');
    const missing = await cli(['api', 'GET', '/v1/nothing-here']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('HTTP 404');
  });
});

describe('emulator', () => {
  it('starts the emulator, which answers, and stops on SIGTERM with exit 0', async () => {
    let url: string | undefined;
    let answered: number | undefined;
    const result = await runCli(['emulator', '--time-scale', '5'], {
      onStdout: (soFar, child) => {
        const match = /API: +(http:\/\/127\.0\.0\.1:\d+)/.exec(soFar);
        if (url || !match || !soFar.includes('Stop with Ctrl+C')) return;
        url = match[1] as string;
        request(`${url}/v1/swagger.json`, (res) => {
          answered = res.statusCode;
          res.resume();
          child.kill('SIGTERM');
        }).end();
      },
    });
    cleanup.add(result);
    expect(answered).toBe(200);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('demo-access:demo-secret');
  });

  it('--help prints the emulator usage; a bad flag exits 2', async () => {
    const help = cleanup.add(await runCli(['emulator', '--help']));
    expect(help.stdout).toContain('--time-scale MS');
    const bad = cleanup.add(await runCli(['emulator', '--bogus']));
    expect(bad.code).toBe(2);
  });
});
