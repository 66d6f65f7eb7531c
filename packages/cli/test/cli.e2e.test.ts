// toolkit-ci run from its committed bundle as users run it (a child process, the token in the environment or
// on stdin), against the Toolkit emulator and two real registries. Every run gets a fresh HOME and
// DOCKER_CONFIG, and every output is checked for every form of the token.
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type EmulatorHandle, startEmulator } from '../../../packages/emulator/src/index.js';
import { nodeRuntimes } from '../../../test/support/nodes.js';
import { registryAvailable, startRegistries, startRegistry } from '../../../test/support/registry.js';
import { Cleanup, type CliResult, expectNoTokenInOutput, runCli } from './run-cli.js';

// A role key whose encodings differ from its raw form (+ / = % " \), so every form is exercised.
const TOKEN = 'ci-pusher-7f3a:Zx9+q/w=e%r"t\\y0K';
const IDENTITY = { id: 'role-1', name: 'pusher', fullName: 'acme.ml.pusher', account: 'acme.ml' };
// Tokens a shell could misread: quotes, $, backquotes, backslashes.
const AWKWARD_TOKENS = ["it's-acc:se'c$HOME\"r\\e`t$(id)", 'dollar$PATH:${HOME}x', "q'q'q"];
const requireRegistry = process.env.REQUIRE_REAL_REGISTRY === '1';
const describeRegistry = registryAvailable() || requireRegistry ? describe : describe.skip;

let emulator: EmulatorHandle;
let work: string;
const cleanup = new Cleanup();

beforeAll(async () => {
  emulator = await startEmulator({ timeScale: 5 });
  emulator.addToken({ token: TOKEN, kind: 'role', identity: IDENTITY });
  for (const token of AWKWARD_TOKENS)
    emulator.addToken({ token, kind: 'role', identity: { fullName: 'acme.ml.odd' } });
  work = await mkdtemp(join(tmpdir(), 'toolkit-ci-cli-e2e-'));
});
afterAll(async () => {
  await cleanup.run();
  await emulator?.close();
  await rm(work, { recursive: true, force: true });
});

/** Runs the CLI with the token in EAI_TOKEN and the emulator as the API. */
function cli(args: string[], options: Parameters<typeof runCli>[1] = {}): Promise<CliResult> {
  return runCli(args, {
    ...options,
    env: { EAI_TOKEN: TOKEN, EAI_CONSOLE_URL: emulator.url, TOOLKIT_CI_POLL_MS: '10', ...options.env },
  }).then((result) => cleanup.add(result));
}

function expectClean(result: CliResult, token = TOKEN): void {
  expectNoTokenInOutput(result, token);
}

async function dockerAuths(dir: string): Promise<string[]> {
  try {
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { auths?: object };
    return Object.keys(config.auths ?? {}).sort();
  } catch {
    return [];
  }
}

describeRegistry('login and logout against real registries', () => {
  let registries: Awaited<ReturnType<typeof startRegistries>>;
  beforeAll(async () => {
    registries = await startRegistries([TOKEN]);
  });
  afterAll(async () => {
    await registries?.stop();
  });
  const hostFlags = () => [
    '--registry-host',
    registries.regular.host,
    '--volatile-registry-host',
    registries.volatile.host,
  ];

  it.each(nodeRuntimes().map((runtime) => [runtime.name, runtime.path]))(
    'on %s: logs in to both, prints who and where, writes config.json; logout removes exactly those',
    async (_name, node) => {
      const docker = join(work, `docker-${_name.replace(/\W/g, '')}`);
      const unrelated = {
        auths: { 'unrelated.example.com': { auth: Buffer.from('user:pass').toString('base64') } },
      };
      await import('node:fs/promises').then((fs) => fs.mkdir(docker, { recursive: true }));
      await writeFile(join(docker, 'config.json'), JSON.stringify(unrelated), { mode: 0o600 });

      const login = await cli(['login', '--registry', 'both', ...hostFlags(), '--docker-config', docker], {
        node,
      });
      expect(login.stderr).not.toMatch(/toolkit-ci: error|WARNING: Error parsing/);
      expect(login.code).toBe(0);
      expect(login.stdout).toContain('Authenticated as acme.ml.pusher (account acme.ml)\n');
      expect(login.stdout).toContain(`Logged in to ${registries.regular.host}\n`);
      expect(login.stdout).toContain(`Logged in to ${registries.volatile.host}\n`);
      const config = JSON.parse(await readFile(join(docker, 'config.json'), 'utf8'));
      expect(config.auths[registries.regular.host].auth).toBe(
        Buffer.from(`console:${TOKEN}`).toString('base64'),
      );
      expectClean(login);

      const logout = await cli(['logout', '--registry', 'both', ...hostFlags(), '--docker-config', docker], {
        node,
        env: { EAI_TOKEN: undefined },
      });
      expect(logout.code).toBe(0);
      expect(logout.stdout).toContain(`Logged out of ${registries.volatile.host}\n`);
      expect(await dockerAuths(docker)).toEqual(['unrelated.example.com']);
    },
  );

  it('uses DOCKER_CONFIG from the environment and reads the token from stdin with --token-file -', async () => {
    const result = await cli(['login', '--registry', registries.volatile.host, '--token-file', '-'], {
      env: { EAI_TOKEN: undefined },
      stdin: `${TOKEN}\n`,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('toolkit-ci: warning');
    expect(await dockerAuths(result.dockerConfig)).toEqual([registries.volatile.host]);
    expectClean(result);
  });

  it('a registry that refuses the token exits 3 and rolls back the logins already done, exporting nothing', async () => {
    const other = await startRegistry({ name: 'refusing', passwords: ['some-other-password'] });
    try {
      const bashEnv = join(work, 'refused_bash_env');
      await writeFile(bashEnv, '');
      const result = await cli(['login', '--registry', `regular,${other.host}`, ...hostFlags()], {
        env: { CIRCLECI: 'true', BASH_ENV: bashEnv },
      });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(`Registry ${other.host} refused the token (401 Unauthorized)`);
      expect(result.stderr).toContain(`Logged out of ${registries.regular.host} (the login failed)`);
      expect(await dockerAuths(result.dockerConfig)).toEqual([]);
      expect(await readFile(bashEnv, 'utf8')).toBe('');
      expectClean(result);
    } finally {
      await other.stop();
    }
  });
});

describe('the token never comes from the command line', () => {
  it.each([[['--token', 'flag-access:flag-secret']], [['--token=flag-access:flag-secret']]])(
    'login %j exits 2, says how to pass it, calls nothing and never prints it',
    async (flag) => {
      const before = emulator.journal.length;
      const result = await cli(['login', '--registry', 'none', ...flag], { env: { EAI_TOKEN: undefined } });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--token is not accepted.*EAI_TOKEN.*--token-file PATH\|-/s);
      expect(emulator.journal.length).toBe(before);
      expectClean(result, 'flag-access:flag-secret');
    },
  );

  it('a missing token exits 2 and names the variable', async () => {
    const result = await cli(['whoami'], { env: { EAI_TOKEN: undefined } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the environment variable EAI_TOKEN is not set or empty');
  });

  it('--token-env names another variable; --token-file reads a file', async () => {
    const byEnv = await cli(['whoami', '--token-env', 'MY_TOOLKIT_TOKEN'], {
      env: { EAI_TOKEN: undefined, MY_TOOLKIT_TOKEN: TOKEN },
    });
    expect(byEnv.stdout).toBe('acme.ml.pusher (account acme.ml)\n');
    const file = join(work, 'token.txt');
    await writeFile(file, `${TOKEN}\n`, { mode: 0o600 });
    const byFile = await cli(['whoami', '--json', '--token-file', file], { env: { EAI_TOKEN: undefined } });
    expect(JSON.parse(byFile.stdout)).toMatchObject({ fullName: 'acme.ml.pusher', account: 'acme.ml' });
    expectClean(byEnv);
    expectClean(byFile);
  });
});

describe('export for later steps', () => {
  it.each(AWKWARD_TOKENS)(
    'CircleCI: a second bash sourcing $BASH_ENV sees EAI_TOKEN exactly (%s)',
    async (token) => {
      const bashEnv = join(work, `bash_env_${AWKWARD_TOKENS.indexOf(token)}`);
      await writeFile(bashEnv, 'export FROM_CIRCLECI=1\n');
      const result = await cli(['login', '--registry', 'none'], {
        env: { EAI_TOKEN: token, CIRCLECI: 'true', BASH_ENV: bashEnv },
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Exported EAI_TOKEN and EAI_CONSOLE_URL to $BASH_ENV (CircleCI)');
      expectClean(result, token);
      // The next step: bash sources BASH_ENV; the value comes back through a file, never argv.
      const out = join(work, 'seen');
      execFileSync(
        'bash',
        [
          '-c',
          'source "$1"; printf "%s\\n%s\\n%s" "$FROM_CIRCLECI" "$EAI_CONSOLE_URL" "$EAI_TOKEN" > "$2"',
          'bash',
          bashEnv,
          out,
        ],
        { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      expect(await readFile(out, 'utf8')).toBe(`1\n${emulator.url}\n${token}`);
    },
  );

  it('GitHub: auto appends a heredoc entry to $GITHUB_ENV', async () => {
    const githubEnv = join(work, 'github_env');
    await writeFile(githubEnv, '');
    const result = await cli(['login', '--registry', 'none'], { env: { GITHUB_ENV: githubEnv } });
    expect(result.code).toBe(0);
    const text = await readFile(githubEnv, 'utf8');
    expect(text).toMatch(
      new RegExp(`^EAI_TOKEN<<(ghadelimiter_[0-9a-f-]+)\\n${escapeRegExp(TOKEN)}\\n\\1\\n`),
    );
    expectClean(result);
  });

  it('dotenv=PATH writes a 0600 file and warns that it holds the token', async () => {
    const result = await cli(['login', '--registry', 'none', '--export', 'dotenv=toolkit.env']);
    expect(result.code).toBe(0);
    const file = join(result.home, 'toolkit.env');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toContain(`EAI_CONSOLE_URL=${emulator.url}\n`);
    expect(result.stderr).toMatch(/warning: .*toolkit\.env holds the token in clear text/);
    expectClean(result);
  });

  it('dotenv=PATH in a folder that does not exist fails before any call or login', async () => {
    const before = emulator.journal.length;
    const result = await cli([
      'login',
      '--registry',
      'none',
      '--export',
      'dotenv=no-such-folder/toolkit.env',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--export dotenv: the folder "[^"]*no-such-folder" does not exist/);
    expect(emulator.journal.length).toBe(before);
    expectClean(result);
  });

  it('auto exports nothing outside CircleCI and GitHub; bash-env without BASH_ENV is a usage error', async () => {
    const none = await cli(['login', '--registry', 'none']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('Authenticated as acme.ml.pusher (account acme.ml)\n');
    const before = emulator.journal.length;
    const refused = await cli(['login', '--registry', 'none', '--export', 'bash-env']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--export bash-env needs the environment variable BASH_ENV');
    expect(emulator.journal.length).toBe(before);
  });
});

describe('errors and exit codes', () => {
  it('a refused token exits 3 with the meaning, quiet about the value', async () => {
    const wrong = 'unknown-acc:unknown-secret';
    const result = await cli(['whoami'], { env: { EAI_TOKEN: wrong } });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/GET \/v1\/me failed with HTTP 401.*invalid, expired or revoked/);
    expectClean(result, wrong);
  });

  it('a malformed token exits 2 describing its shape only', async () => {
    const bad = 'abc def:ghi';
    const result = await cli(['whoami'], { env: { EAI_TOKEN: bad } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('contains whitespace inside it (11 characters, one colon)');
    expectClean(result, bad);
  });

  it('plain http to a non-loopback host exits 2 before sending anything', async () => {
    const result = await cli(['whoami', '--api-url', 'http://example.com']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--api-url http:\/\/example\.com uses plain http/);
  });

  it('a missing docker CLI exits 6', async () => {
    const result = await cli(['login', '--registry', emulator.registryHost], {
      env: { PATH: '/nonexistent-bin' },
    });
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('The docker CLI was not found');
  });

  it('an unreachable registry exits 4', async () => {
    const result = await cli(['login', '--registry', '127.0.0.1:9']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/Registry 127\.0\.0\.1:9 is unreachable \(connection refused\)/);
  });

  it('an unknown command or option exits 2 pointing at --help', async () => {
    const unknown = await cli(['deploy']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "deploy"');
    const option = await cli(['whoami', '--frobnicate']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain(
      'unknown option --frobnicate (toolkit-ci whoami). See toolkit-ci whoami --help',
    );
  });

  it('--version and --help', async () => {
    const version = await cli(['--version']);
    expect(version.stdout).toBe(
      `${JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')).version}\n`,
    );
    const help = await cli(['job', 'submit', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: toolkit-ci job submit \[options\]/);
    expect(help.stdout).toContain('--timeout-minutes N');
  });
});

describe('redaction of what children print', () => {
  it('a docker that echoes every form of the password it got is redacted; its argv never holds the token', async () => {
    const bin = join(work, 'fake-bin');
    await import('node:fs/promises').then((fs) => fs.mkdir(bin, { recursive: true }));
    const argvFile = join(work, 'docker-argv');
    // Prints the password it read from stdin raw, base64 of console:PASSWORD and split over two writes.
    await writeFile(
      join(bin, 'docker'),
      `#!/bin/sh
printf '%s\\n' "$*" > '${argvFile}'
read -r password
printf 'got %s\\n' "$password"
printf 'auth %s\\n' "$(printf 'console:%s' "$password" | base64 -w0)"
printf 'half %s' "$(printf '%s' "$password" | cut -c1-5)"; sleep 0.05; printf '%s\\n' "$(printf '%s' "$password" | cut -c6-)"
echo 'Login Succeeded'
`,
    );
    await chmod(join(bin, 'docker'), 0o755);
    const result = await cli(['login', '--registry', 'some-registry.example.com', '--no-verify'], {
      env: { PATH: `${bin}:${process.env.PATH}` },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('got ***');
    expect(result.stderr).toContain('auth ***');
    expect(result.stderr).toContain('half ***');
    expect(await readFile(argvFile, 'utf8')).toBe(
      'login -u console --password-stdin some-registry.example.com\n',
    );
    expectClean(result);
  });

  it("a job's log that prints the token is redacted when streamed and when fetched", async () => {
    const spec = join(work, 'leaky-job.json');
    await writeFile(
      spec,
      JSON.stringify({
        image: 'alpine',
        environmentVars: [`LEAK=${TOKEN}`],
        command: ['/bin/sh', '-c', 'echo token is $LEAK; echo done'],
      }),
    );
    const submit = await cli(['job', 'submit', '--spec', spec, '--follow']);
    expect(submit.code).toBe(0);
    const [id] = submit.stdout.split('\n');
    expect(submit.stdout).toContain('token is ***\ndone\n');
    const logs = await cli(['job', 'logs', id as string]);
    expect(logs.stdout).toBe('token is ***\ndone\n');
    const get = await cli(['job', 'get', id as string, '--json']);
    expect(JSON.parse(get.stdout).jobspec.environmentVars).toEqual(['LEAK=***']);
    for (const result of [submit, logs, get]) expectClean(result);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
