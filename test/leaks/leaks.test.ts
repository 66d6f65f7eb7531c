/**
 * The leak suite: every entry point (entry-points.ts) under every mode below, with every debug switch, for
 * tokens of every shape, fails on any form of the token (test/support/token-forms.ts) in any sink but the
 * intended ones: raw stdout/stderr (outside `::add-mask::` commands), the shown log, error and warning
 * messages, the job summary, outputs, state, exported variables, the command lines and environments of
 * every process started during the run (sampled from /proc while it runs), and every file written under
 * the run's dirs, HOME, TMPDIR and DOCKER_CONFIG.
 *
 * The matrix, and where it is reduced (said here, so nobody thinks it ran in full):
 * - Every entry point runs every mode, and every mode runs 7 cases, a covering design instead of the full
 *   4 tokens x 4 debug switches: every token with debug off, and every debug switch with the token that
 *   has the most distinct forms (the role key with + / = % " \). So each mode meets each debug switch and
 *   each token shape; what is left out is the other tokens under the debug switches (the full product,
 *   16 per mode, would put the suite far past 90 s on a 2-core machine once four entry points run it).
 * - "API 500 until retries give up" gets 500s with `Retry-After: 0`, which the client honours, so its five
 *   attempts take no backoff. Two modes wait through the real backoff (full jitter, ~3.75 s on average
 *   per run): "API 500, real backoff" and "API connection reset"; they run concurrently with the rest of an
 *   entry point's cases (all of which run in the entry point's beforeAll; each mode's test then checks
 *   and prints its own cases).
 * - Timeout: the actions' per-attempt timeout is a fixed 30 s (no test-only knob in the product), so the
 *   hung-API timeout is covered at the core level: ToolkitClient with a 300 ms timeout in a child process
 *   (test/support/core-probe.ts) against a hung emulator, every token x debug switch, its raw stdout and
 *   stderr (NODE_DEBUG included), error message, util.inspect of the error, command line and files checked.
 * - Modes that need a real registry (success, registry 401) are skipped with a notice when docker-registry
 *   is not installed, unless REQUIRE_REAL_REGISTRY=1.
 * - actions/job (two rows: the token from the `token` input, and from EAI_TOKEN + EAI_CONSOLE_URL as
 *   actions/login exports them) runs JOB_MODES, not MODES: it calls POST /v1/job (no GET /v1/me) and runs
 *   no docker, so the registry and docker modes (success with a real registry, registry 401, registry down,
 *   docker CLI missing) do not apply to it, and its modes fault the submit instead of /v1/me. A POST is not
 *   retried on a 500 (the server may have processed it), so "API 500" fails after one attempt and "API 503
 *   until retries give up" (Retry-After: 0) is the mode that uses up the five attempts; the real-backoff
 *   mode is left to the login rows (same client, same backoff code) and so is the hung-API timeout (above).
 *   Each job mode runs 2 cases instead of 7, the smallest matrix that still crosses every mode with debug
 *   off and on: the k-th mode runs TOKENS[k mod 4] with debug off, and SWEEP_TOKEN with the debug switch
 *   DEBUG_SWITCHES[1 + k mod 3], so across a row every token shape meets the mode list with debug off and
 *   every debug switch is used; left out are the other tokens under each debug switch, per mode.
 *   Two job modes go beyond the others: the job echoes the token it got in its environment (the `env`
 *   input, TOKEN_COPY=<token>), which must show as *** in every sink while the emulator's copy of the log
 *   holds it (proof that there was something to hide); and main fails while following a job that is still
 *   queued, so post reads the token again and cancels the job.
 * Every case prints what it checked; the totals are printed at the end.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  DEMO_TOKENS,
  type EmulatorHandle,
  type EmulatorOptions,
  type FaultRule,
  startEmulator,
  type TokenConfig,
} from '../../packages/emulator/src/index.js';
import { dockerProcesses, startProcessSampler } from '../support/cmdline-sampler.js';
import { buildCoreProbe, type CoreProbe, runCoreProbe } from '../support/core-probe.js';
import { readFilesUnder, withoutEnvEntry } from '../support/file-scan.js';
import { mapPool } from '../support/pool.js';
import { type RegistryInstance, registryAvailable, startRegistry } from '../support/registry.js';
import {
  findForms,
  type LeakSink,
  type TokenForm,
  tokenForms,
  withoutMaskCommands,
} from '../support/token-forms.js';
import { type EntryPoint, type EntryPointRun, entryPoints, type Scenario } from './entry-points.js';

interface LeakToken {
  name: string;
  value: string;
  kind: TokenConfig['kind'];
}

function base64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

// A personal token is opaque: a long JWT-shaped one, 240 characters (htpasswd, which the suite's real
// registries use, refuses passwords longer than 255).
const LONG_OPAQUE = [
  base64url({ alg: 'RS256', typ: 'JWT' }),
  base64url({ sub: 'demo.demo_user', aud: 'toolkit', exp: 4102444800, jti: 'f0e1d2c3b4a59687' }),
  base64url('leak-suite-signature-'.repeat(5)),
]
  .join('.')
  .slice(0, 240);

const TOKENS: LeakToken[] = [
  { name: 'role key', value: 'ci-pusher-3f9a1c:kP7dQ2xW9mZr4tLs8vNb6hYc', kind: 'role' },
  { name: 'long opaque', value: LONG_OPAQUE, kind: 'personal' },
  // Encodings differ from the raw form: URL-encoding, JSON-escaping and base64 all change + / = % " \.
  { name: 'role key with + / = % " \\', value: 'ci-pusher-7f3a:Zx9+q/w=e%r"t\\y0K', kind: 'role' },
  { name: 'opaque with + / = % " \\', value: 'tk_9Qz+Lm/8=Rv%2F"uW\\pX7~Kc4', kind: 'personal' },
];

interface DebugSwitch {
  name: string;
  env: Record<string, string>;
}

const DEBUG_SWITCHES: DebugSwitch[] = [
  { name: 'debug off', env: {} },
  { name: 'RUNNER_DEBUG=1', env: { RUNNER_DEBUG: '1' } },
  { name: 'ACTIONS_STEP_DEBUG=true', env: { ACTIONS_STEP_DEBUG: 'true' } },
  {
    name: 'NODE_DEBUG=http,http2,net,tls,undici,fetch',
    env: { NODE_DEBUG: 'http,http2,net,tls,undici,fetch' },
  },
];
const DEBUG_OFF = DEBUG_SWITCHES[0] as DebugSwitch;

/** Nothing answers on the discard port: `docker login` gets "connection refused". */
const DEAD_REGISTRY = '127.0.0.1:9';

interface Shared {
  /** One real registry per token (distribution's htpasswd takes one password per user). */
  registryFor: Map<string, RegistryInstance>;
  /** A real registry whose only password is none of the tokens. */
  refusing?: RegistryInstance;
}

interface ModeContext {
  token: LeakToken;
  emulator: EmulatorHandle;
  shared: Shared;
}

interface Mode {
  name: string;
  expect: 'success' | 'failure';
  /** The failure the mode must produce, so a case that failed for another reason does not count. */
  error?: RegExp;
  /** Waits through the real backoff: its cases run all at once, beside the others (see the header). */
  slow?: boolean;
  needsRealRegistry?: boolean;
  /** Default true: the emulator accepts the token. */
  emulatorKnowsToken?: boolean;
  faults?: FaultRule[];
  /** Docker subcommands the sampler must have caught in at least one case of the mode. */
  mustSeeDocker?: string[];
  /** Emulator settings beyond the suite's (e.g. jobs held in QUEUING). */
  emulator?: Pick<EmulatorOptions, 'phaseSeconds'>;
  /** The token's policies in the emulator; default every policy. */
  permissions?: string[];
  scenario(ctx: ModeContext): Omit<Scenario, 'env'> & { env?: Scenario['env'] };
  /** The mode's own checks once the run is over (outputs, logs, the journal); answers problems. */
  check?(ctx: CheckContext): string[] | Promise<string[]>;
}

interface CheckContext {
  run: EntryPointRun;
  emulator: EmulatorHandle;
  token: LeakToken;
}

const api = (ctx: ModeContext) => ({
  token: ctx.token.value,
  apiUrl: ctx.emulator.url,
  registries: { regular: ctx.emulator.registryHost, volatile: ctx.emulator.volatileRegistryHost },
});
const onMe = (rule: FaultRule): FaultRule => ({ target: 'api', path: '/v1/me', times: 'always', ...rule });

const MODES: Mode[] = [
  {
    name: 'success',
    expect: 'success',
    needsRealRegistry: true,
    mustSeeDocker: ['login', 'logout'],
    scenario: (ctx) => ({
      ...api(ctx),
      registries: {
        regular: (ctx.shared.registryFor.get(ctx.token.name) as RegistryInstance).host,
        volatile: ctx.emulator.volatileRegistryHost,
      },
    }),
  },
  {
    name: 'malformed token',
    expect: 'failure',
    // The action names its input; the CLI and the plugin name the variable or setting the token came from.
    error:
      /(input "token"|The token from (environment variable EAI_TOKEN|setting "token")) starts with an authorization scheme/,
    // A pasted header: the real token is inside the refused value, and must not come out.
    scenario: (ctx) => ({ ...api(ctx), token: `Bearer ${ctx.token.value}` }),
  },
  {
    name: 'API 401',
    expect: 'failure',
    error: /GET \/v1\/me failed with HTTP 401 Unauthorized: the token is invalid, expired or revoked/,
    emulatorKnowsToken: false,
    scenario: api,
  },
  {
    name: 'API 403',
    expect: 'failure',
    error: /GET \/v1\/me failed with HTTP 403 Forbidden: the token's role lacks a policy/,
    faults: [onMe({ status: 403 })],
    scenario: api,
  },
  {
    name: 'API 500 until retries give up',
    expect: 'failure',
    error: /GET \/v1\/me failed with HTTP 500 Internal Server Error \(5 attempts\)/,
    faults: [onMe({ status: 500, retryAfter: 0 })],
    scenario: api,
  },
  {
    name: 'API 500, real backoff',
    expect: 'failure',
    error: /GET \/v1\/me failed with HTTP 500 Internal Server Error \(5 attempts\)/,
    slow: true,
    faults: [onMe({ status: 500 })],
    scenario: api,
  },
  {
    name: 'API connection reset',
    expect: 'failure',
    error: /GET \/v1\/me to http:\/\/127\.0\.0\.1:\d+ failed: .*\(5 attempts\)/,
    slow: true,
    faults: [onMe({ reset: true })],
    scenario: api,
  },
  {
    name: 'registry 401',
    expect: 'failure',
    error: /Registry 127\.0\.0\.1:\d+ refused the token \(401 Unauthorized\)/,
    needsRealRegistry: true,
    mustSeeDocker: ['login'],
    // The first login works and is rolled back when the second registry refuses the token.
    scenario: (ctx) => ({
      ...api(ctx),
      registries: {
        regular: ctx.emulator.registryHost,
        volatile: (ctx.shared.refusing as RegistryInstance).host,
      },
    }),
  },
  {
    name: 'registry down',
    expect: 'failure',
    error: /Registry 127\.0\.0\.1:9 is unreachable \(connection refused\)/,
    mustSeeDocker: ['login'],
    scenario: (ctx) => ({
      ...api(ctx),
      registries: { regular: ctx.emulator.registryHost, volatile: DEAD_REGISTRY },
    }),
  },
  {
    name: 'docker CLI missing',
    expect: 'failure',
    error: /The docker CLI was not found/,
    scenario: (ctx) => ({ ...api(ctx), env: { PATH: '/nonexistent-bin' } }),
  },
];

/** The emulator's read-only demo role: every `get`, no `job:new`. */
const READ_ONLY_POLICIES = DEMO_TOKENS.find((t) => t.identity?.fullName === 'demo.ci.reader')
  ?.permissions as string[];

const onSubmit = (rule: FaultRule): FaultRule => ({
  target: 'api',
  method: 'POST',
  path: '/v1/job',
  times: 'always',
  ...rule,
});

function apiRequests(emulator: EmulatorHandle, method?: string): number {
  return emulator.journal.filter((e) => e.target === 'api' && (!method || e.method === method)).length;
}

/** The job ended in `state` with exit code 0, and the step's log shows each of `lines` as a line. */
function jobEnded(run: EntryPointRun, state: string, lines: string[]): string[] {
  const problems: string[] = [];
  const outputs = run.outputs ?? {};
  if (outputs.state !== state || outputs['exit-code'] !== '0') {
    problems.push(`expected outputs state=${state} exit-code=0, got ${JSON.stringify(outputs)}`);
  }
  const shown = (run.logs?.main ?? '').split('\n');
  for (const line of lines)
    if (!shown.includes(line)) problems.push(`the log does not show the line "${line}"`);
  return problems;
}

/** The job's log as the emulator serves it (the test reads it; the product already ran). */
async function emulatorJobLog(emulator: EmulatorHandle, id: string, token: string): Promise<string> {
  const response = await fetch(`${emulator.url}/v1/job/${encodeURIComponent(id)}/logs`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return response.status === 200 ? response.text() : '';
}

/**
 * The job modes (see the header). The job row's scenario reuses `api` (token, API, registries unused).
 * Each failure names the call the action makes: POST /v1/job.
 */
const JOB_MODES: Mode[] = [
  {
    name: 'success (the job echoes lines)',
    expect: 'success',
    scenario: api,
    check: ({ run }) => jobEnded(run, 'SUCCEEDED', ['line 1', 'line 2', 'line 3']),
  },
  {
    name: 'the job echoes the token from its env (env TOKEN_COPY=<token>)',
    expect: 'success',
    scenario: (ctx) => ({
      ...api(ctx),
      job: {
        command: 'echo line 1\necho copy: $TOKEN_COPY\necho line 3',
        env: `TOKEN_COPY=${ctx.token.value}\nMODE=ci`,
      },
    }),
    check: async ({ run, emulator, token }) => {
      const problems = jobEnded(run, 'SUCCEEDED', ['line 1', 'copy: ***', 'line 3']);
      // The job really printed the token: the redaction had something to hide (and the check could fail).
      const served = await emulatorJobLog(emulator, run.outputs?.['job-id'] ?? '', token.value);
      if (!served.split('\n').includes(`copy: ${token.value}`)) {
        problems.push("the emulator's copy of the job log does not hold the echoed token");
      }
      return problems;
    },
  },
  {
    name: 'malformed token',
    expect: 'failure',
    error: /The token from (input "token"|EAI_TOKEN) starts with an authorization scheme/,
    scenario: (ctx) => ({ ...api(ctx), token: `Bearer ${ctx.token.value}` }),
    check: ({ emulator }) =>
      apiRequests(emulator) === 0 ? [] : [`${apiRequests(emulator)} request(s) reached the API`],
  },
  {
    name: 'API 401',
    expect: 'failure',
    error: /POST \/v1\/job failed with HTTP 401 Unauthorized: the token is invalid, expired or revoked/,
    emulatorKnowsToken: false,
    scenario: api,
  },
  {
    name: "API 403 (the read-only demo role's policies: no job:new)",
    expect: 'failure',
    error:
      /POST \/v1\/job failed with HTTP 403 Forbidden: the token's role lacks a policy for this call; server said: missing policy job:new@/,
    permissions: READ_ONLY_POLICIES,
    scenario: api,
  },
  {
    name: 'API 500 on submit (a POST is not retried)',
    expect: 'failure',
    error:
      /POST \/v1\/job failed with HTTP 500 Internal Server Error \(1 attempt; not retried: the server may have processed it\)/,
    faults: [onSubmit({ status: 500 })],
    scenario: api,
    check: ({ emulator }) =>
      apiRequests(emulator, 'POST') === 1 ? [] : [`expected 1 POST, got ${apiRequests(emulator, 'POST')}`],
  },
  {
    name: 'API 503 until retries give up',
    expect: 'failure',
    error: /POST \/v1\/job failed with HTTP 503 Service Unavailable \(5 attempts\)/,
    faults: [onSubmit({ status: 503, retryAfter: 0 })],
    scenario: api,
    check: ({ emulator }) =>
      apiRequests(emulator, 'POST') === 5 ? [] : [`expected 5 POSTs, got ${apiRequests(emulator, 'POST')}`],
  },
  {
    name: 'API connection reset',
    expect: 'failure',
    error: /POST \/v1\/job to http:\/\/127\.0\.0\.1:\d+ failed: .*\(1 attempt; not retried/,
    faults: [onSubmit({ reset: true })],
    scenario: api,
  },
  {
    name: 'main fails while following (404), post cancels the queued job',
    expect: 'failure',
    error: /GET \/v1\/job\/\S+ failed with HTTP 404 Not Found/,
    emulator: { phaseSeconds: { queuing: 1e12 } },
    faults: [{ target: 'api', method: 'GET', path: '/v1/job/*', status: 404, times: 1 }],
    scenario: api,
    check: ({ run, emulator }) => {
      const id = run.outputs?.['job-id'] ?? '';
      const problems: string[] = [];
      if (!(run.logs?.post ?? '').includes(`Cancelled job ${id}`))
        problems.push('post did not cancel the job');
      if (!/^CANCELL(ING|ED)$/.test(emulator.job(id)?.state ?? '')) {
        problems.push(`the job is ${emulator.job(id)?.state ?? 'unknown'}, not cancelled`);
      }
      return problems;
    },
  },
];

interface Case {
  token: LeakToken;
  debug: DebugSwitch;
}

/** Has the most distinct forms (11): the token every debug switch is swept with. */
const SWEEP_TOKEN = TOKENS[2] as LeakToken;

/** The covering design (see the header): every token with debug off, every debug switch with SWEEP_TOKEN. */
function casesOf(): Case[] {
  return [
    ...TOKENS.map((token) => ({ token, debug: DEBUG_OFF })),
    ...DEBUG_SWITCHES.filter((debug) => debug !== DEBUG_OFF).map((debug) => ({ token: SWEEP_TOKEN, debug })),
  ];
}

/** The job rows' pair for the k-th job mode (see the header): one case with debug off, one with debug on. */
function jobCasesOf(k: number): Case[] {
  return [
    { token: TOKENS[k % TOKENS.length] as LeakToken, debug: DEBUG_OFF },
    { token: SWEEP_TOKEN, debug: DEBUG_SWITCHES[1 + (k % (DEBUG_SWITCHES.length - 1))] as DebugSwitch },
  ];
}

function modesOf(entry: EntryPoint): Mode[] {
  return entry.modes === 'job' ? JOB_MODES : MODES;
}

function casesFor(entry: EntryPoint, mode: Mode): Case[] {
  return entry.modes === 'job' ? jobCasesOf(JOB_MODES.indexOf(mode)) : casesOf();
}

const totals = { cases: 0, formChecks: 0, sinks: 0, checks: 0, processes: 0, files: 0 };
const realRegistry = registryAvailable() || process.env.REQUIRE_REAL_REGISTRY === '1';
const shared: Shared = { registryFor: new Map() };
// Fast cases are mostly CPU (two node starts each) on a 2-core machine; slow ones mostly wait.
const CONCURRENCY = 3;

const startedRegistries: RegistryInstance[] = [];

beforeAll(async () => {
  if (!realRegistry) {
    console.log(
      'notice: docker-registry or htpasswd is not installed: the modes needing a real registry are skipped',
    );
    return;
  }
  const starting = [
    ...TOKENS.map((token, index) => startRegistry({ name: `leak-${index}`, passwords: [token.value] })),
    startRegistry({ name: 'leak-refusing', passwords: ['none-of-the-leak-suite-tokens'] }),
  ];
  const settled = await Promise.allSettled(starting);
  for (const outcome of settled) if (outcome.status === 'fulfilled') startedRegistries.push(outcome.value);
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  TOKENS.forEach((token, index) => {
    shared.registryFor.set(token.name, startedRegistries[index] as RegistryInstance);
  });
  shared.refusing = startedRegistries[TOKENS.length];
}, 60_000);

afterAll(async () => {
  await Promise.all(startedRegistries.map((registry) => registry.stop()));
  console.log(
    [
      'Leak suite totals',
      `  cases run:              ${totals.cases}`,
      `  forms checked:          ${totals.formChecks} (sum over cases of the token's distinct forms)`,
      `  sinks checked:          ${totals.sinks} (files counted one by one)`,
      `  form x sink checks:     ${totals.checks}`,
      `  processes sampled:      ${totals.processes}`,
      `  files scanned:          ${totals.files}`,
    ].join('\n'),
  );
});

interface CaseReport {
  line: string;
  problems: string[];
  dockerSeen: Record<string, number>;
}

function describeForms(forms: TokenForm[]): string {
  return `${forms.length} forms`;
}

function count(sinks: LeakSink[], forms: TokenForm[], processes: number, files: number): void {
  totals.cases += 1;
  totals.formChecks += forms.length;
  totals.sinks += sinks.length;
  totals.checks += forms.length * sinks.length;
  totals.processes += processes;
  totals.files += files;
}

async function runCase(entry: EntryPoint, mode: Mode, item: Case): Promise<CaseReport> {
  const label = `${item.token.name} · ${item.debug.name}`;
  const emulator = await startEmulator({
    timeScale: 5,
    ...mode.emulator,
    tokens:
      mode.emulatorKnowsToken === false
        ? []
        : [
            {
              token: item.token.value,
              kind: item.token.kind,
              identity: { fullName: 'acme.ml.pusher' },
              ...(mode.permissions ? { permissions: mode.permissions } : {}),
            },
          ],
    faults: mode.faults ?? [],
  });
  let run: EntryPointRun | undefined;
  try {
    const scenario = mode.scenario({ token: item.token, emulator, shared });
    run = await entry.run({ ...scenario, env: { ...scenario.env, ...item.debug.env } });
    const forms = tokenForms(item.token.value);
    const problems: string[] = [];
    for (const finding of findForms(forms, run.sinks)) {
      problems.push(`${label}: ${finding.form} found in ${finding.sink}`);
    }
    if (mode.expect === 'success') {
      if (!run.succeeded)
        problems.push(`${label}: expected success, got ${run.exitCodes}: ${run.errors.join(' | ')}`);
      // The intended sinks hold the token: proof that the sinks are read and the forms would be found.
      const inIntended = findForms(forms, run.intended).map((f) => `${f.form} in ${f.sink}`);
      if (
        run.exportsToken !== false &&
        !inIntended.some((f) => f.startsWith('raw') && f.includes('EAI_TOKEN'))
      ) {
        problems.push(`${label}: the raw token was not found in GITHUB_ENV's EAI_TOKEN entry`);
      }
      if (
        run.dockerLogin !== false &&
        !inIntended.some((f) => f.startsWith('base64(console:token)') && f.includes('config.json'))
      ) {
        problems.push(`${label}: base64(console:token) was not found in config.json after main`);
      }
      if (
        run.exportsToken === false &&
        run.dockerLogin === false &&
        !inIntended.some((f) => f.startsWith('raw'))
      ) {
        problems.push(
          `${label}: the raw token was not found in any intended sink (${run.intended.map((i) => i.name).join(', ')})`,
        );
      }
    } else {
      if (run.succeeded) problems.push(`${label}: expected a failure, got ${run.exitCodes}`);
      if (mode.error && !run.errors.some((message) => mode.error?.test(message))) {
        problems.push(`${label}: expected an error matching ${mode.error}, got: ${run.errors.join(' | ')}`);
      }
      if (Object.keys(run.exported).length > 0) {
        problems.push(`${label}: a failed run exported ${Object.keys(run.exported).join(', ')}`);
      }
    }
    for (const problem of (await mode.check?.({ run, emulator, token: item.token })) ?? []) {
      problems.push(`${label}: ${problem}`);
    }
    if (!run.cleanupOk) problems.push(`${label}: the clean-up step failed (${run.exitCodes})`);
    if (run.credentialsLeft.length > 0) {
      problems.push(`${label}: credentials left in config.json for ${run.credentialsLeft.join(', ')}`);
    }
    const dockerSeen = Object.fromEntries(
      ['login', 'logout'].map((sub) => [sub, dockerProcesses(run?.processes ?? [], sub).length]),
    );
    count(run.sinks, forms, run.processes.length, run.filesScanned);
    const status = problems.length === 0 ? 'clean' : `${problems.length} PROBLEM(S)`;
    return {
      line:
        `  ${problems.length === 0 ? '✓' : '✗'} ${label.padEnd(72)} ${run.exitCodes.padEnd(16)} ` +
        `${describeForms(forms)} x ${run.sinks.length} sinks (${run.filesScanned} files, ` +
        `${run.processes.length} processes, docker login x${dockerSeen.login} logout x${dockerSeen.logout}): ${status}`,
      problems,
      dockerSeen,
    };
  } finally {
    await run?.cleanup();
    await emulator.close();
  }
}

describe('the checks themselves can fail (positive controls)', () => {
  const token = TOKENS[2] as LeakToken;

  it('the sampler reads the command line of a child while it runs', async () => {
    const sampler = startProcessSampler();
    await new Promise<void>((resolve, reject) => {
      // A deliberately leaky child: the token in its argv and in its environment.
      const child = spawn('sh', ['-c', 'sleep 0.2', 'leaky', token.value], {
        env: { PATH: process.env.PATH ?? '', LEAKY_TOKEN: token.value },
        stdio: 'ignore',
      });
      if (child.pid !== undefined) sampler.addRoot(child.pid);
      child.on('error', reject);
      child.on('close', () => resolve());
    });
    const processes = sampler.stop();
    const found = findForms(tokenForms(token.value), [
      { name: 'command lines', text: processes.flatMap((p) => p.cmdlines).join('\n') },
    ]);
    expect(found.map((f) => f.form)).toContain('raw');
  });

  it("the sampler reads an exec'd grandchild's environment", async () => {
    const sampler = startProcessSampler();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [
        '-e',
        "require('node:child_process').spawnSync('sleep', ['0.2'], { env: { ...process.env, LEAKY: process.argv[1] } })",
        token.value,
      ]);
      if (child.pid !== undefined) sampler.addRoot(child.pid);
      child.on('error', reject);
      child.on('close', () => resolve());
    });
    const processes = sampler.stop();
    expect(processes.some((p) => p.cmdlines.some((c) => c.startsWith('sleep')))).toBe(true);
    const found = findForms(tokenForms(token.value), [
      { name: 'environments', text: processes.flatMap((p) => p.environs).join('\n') },
    ]);
    expect(found.map((f) => f.form)).toContain('raw');
  });

  it('files are read back, and only the named entry of an env file is left out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'toolkit-ci-leak-control-'));
    try {
      const envFile = join(dir, 'set_env');
      const entry = (name: string, value: string) => `${name}<<ghadelimiter_1\n${value}\nghadelimiter_1\n`;
      await writeFile(envFile, entry('EAI_TOKEN', token.value) + entry('OTHER', token.value));
      await writeFile(join(dir, 'nested.bin'), Buffer.from(`\u0000${token.value}\u0000`, 'latin1'));
      const files = await readFilesUnder([{ label: 'control', dir }]);
      const sinks = files.map((file) => ({
        name: file.name,
        text: file.path === envFile ? withoutEnvEntry(file.text, 'EAI_TOKEN') : file.text,
      }));
      expect(
        findForms(tokenForms(token.value), sinks)
          .filter((f) => f.form === 'raw')
          .map((f) => f.sink),
      ).toEqual(['control/nested.bin', 'control/set_env']);
      expect(withoutEnvEntry(entry('EAI_TOKEN', token.value), 'EAI_TOKEN')).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every form the issue lists is derived, and only ::add-mask:: lines are left out of stdout', () => {
    const kinds = tokenForms(token.value).flatMap((form) => form.kind.split(' = '));
    for (const kind of [
      'raw',
      'access',
      'secret',
      'base64(console:token)',
      'base64(token)',
      'url-encoded',
      'json-escaped',
    ]) {
      expect(kinds).toContain(kind);
    }
    const stdout = `::add-mask::${token.value}\nplain ${token.value}\n`;
    expect(withoutMaskCommands(stdout)).toBe(`plain ${token.value}\n`);
  });
});

/** Runs a case; an exception (a harness failure) becomes a problem of that case instead of ending the run. */
async function runCaseSafely(entry: EntryPoint, mode: Mode, item: Case): Promise<CaseReport> {
  try {
    return await runCase(entry, mode, item);
  } catch (error) {
    const label = `${item.token.name} · ${item.debug.name}`;
    const message = `${label}: the case could not run: ${error instanceof Error ? error.message : String(error)}`;
    return { line: `  ✗ ${label}: could not run`, problems: [message], dockerSeen: {} };
  }
}

describe.each(entryPoints.map((entry) => [entry.name, entry] as const))('leaks of %s', (_name, entry) => {
  const modes = modesOf(entry).filter((mode) => !mode.needsRealRegistry || realRegistry);
  const reports = new Map<Mode, CaseReport[]>();

  // Every case of the entry point at once: the slow modes mostly sleep through their backoff, so they run
  // all together beside the CPU-bound fast ones, which go CONCURRENCY at a time.
  beforeAll(async () => {
    const run = (mode: Mode) => (item: Case) => runCaseSafely(entry, mode, item);
    const slow = modes.filter((mode) => mode.slow);
    const fast = modes.filter((mode) => !mode.slow);
    const [slowReports, fastReports] = await Promise.all([
      Promise.all(
        slow.map((mode) => mapPool(casesFor(entry, mode), casesFor(entry, mode).length, run(mode))),
      ),
      mapPool(
        fast.flatMap((mode) => casesFor(entry, mode).map((item) => ({ mode, item }))),
        CONCURRENCY,
        ({ mode, item }) => run(mode)(item),
      ),
    ]);
    slow.forEach((mode, index) => {
      reports.set(mode, slowReports[index] as CaseReport[]);
    });
    let offset = 0;
    for (const mode of fast) {
      const count = casesFor(entry, mode).length;
      reports.set(mode, fastReports.slice(offset, offset + count));
      offset += count;
    }
  }, 300_000);

  for (const mode of modesOf(entry)) {
    const skip = mode.needsRealRegistry && !realRegistry;
    (skip ? it.skip : it)(`${mode.name}: ${casesFor(entry, mode).length} cases`, () => {
      const modeReports = reports.get(mode) ?? [];
      expect(modeReports).toHaveLength(casesFor(entry, mode).length);
      const problems = modeReports.flatMap((report) => report.problems);
      for (const sub of mode.mustSeeDocker ?? []) {
        const seen = modeReports.reduce((sum, report) => sum + (report.dockerSeen[sub] ?? 0), 0);
        // The command-line check provably can fail: it did see the docker children it checks.
        if (seen === 0) problems.push(`the sampler never caught a "docker ${sub}" command line in this mode`);
      }
      console.log([`${entry.name} under "${mode.name}":`, ...modeReports.map((r) => r.line)].join('\n'));
      expect(problems).toEqual([]);
    });
  }
});

describe('leaks of packages/core ToolkitClient (child process) under a hung API: the timeout mode', () => {
  const PROBE_TIMEOUT_MS = 300;
  let probe: CoreProbe;
  let emulator: EmulatorHandle;

  beforeAll(async () => {
    probe = await buildCoreProbe();
    emulator = await startEmulator({
      timeScale: 5,
      tokens: TOKENS.map((token) => ({ token: token.value, kind: token.kind })),
      // Longer than every attempt's timeout: each attempt ends in the client's timeout.
      faults: [onMe({ latencyMs: 60_000 })],
    });
  }, 60_000);
  afterAll(async () => {
    await emulator?.close();
    await probe?.cleanup();
  });

  it('every token x debug switch: the timeout error, NODE_DEBUG output and command line hold no form', async () => {
    const cases = TOKENS.flatMap((token) => DEBUG_SWITCHES.map((debug) => ({ token, debug })));
    const reports = await mapPool(cases, 4, async ({ token, debug }) => {
      const label = `${token.name} · ${debug.name}`;
      const dir = await mkdtemp(join(tmpdir(), 'toolkit-ci-leak-probe-'));
      const sampler = startProcessSampler();
      try {
        await Promise.all([mkdir(join(dir, 'home')), mkdir(join(dir, 'tmp'))]);
        const run = await runCoreProbe(probe, {
          apiUrl: emulator.url,
          timeoutMs: PROBE_TIMEOUT_MS,
          token: token.value,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: join(dir, 'home'),
            TMPDIR: join(dir, 'tmp'),
            ...debug.env,
          },
          onSpawn: (pid) => sampler.addRoot(pid),
        });
        const processes = sampler.stop();
        const files = await readFilesUnder([{ label: 'probe dir', dir }]);
        const outcome = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, string>;
        const sinks: LeakSink[] = [
          { name: 'stdout (raw)', text: run.stdout },
          { name: 'stderr (raw, NODE_DEBUG and util.inspect of the error)', text: run.stderr },
          { name: 'error message', text: outcome.message ?? '' },
          { name: 'command lines', text: processes.flatMap((p) => p.cmdlines).join('\n') },
          ...files.map((file) => ({ name: `file ${file.name}`, text: file.text })),
        ];
        const forms = tokenForms(token.value);
        const problems = findForms(forms, sinks).map((f) => `${label}: ${f.form} found in ${f.sink}`);
        if (
          outcome.kind !== 'unreachable' ||
          !/timed out after 300 ms \(5 attempts\)/.test(outcome.message ?? '')
        ) {
          problems.push(`${label}: expected a timeout after 5 attempts, got ${JSON.stringify(outcome)}`);
        }
        if (debug.env.NODE_DEBUG && !/UNDICI|NET|HTTP/.test(run.stderr)) {
          problems.push(`${label}: NODE_DEBUG printed nothing, so the mode did not run`);
        }
        count(sinks, forms, processes.length, files.length);
        return {
          line: `  ${problems.length ? '✗' : '✓'} ${label.padEnd(72)} exit=${run.exitCode} ${forms.length} forms x ${sinks.length} sinks (stderr ${run.stderr.length} chars): ${problems.length ? 'PROBLEMS' : 'clean'}`,
          problems,
        };
      } finally {
        sampler.stop();
        await rm(dir, { recursive: true, force: true });
      }
    });
    console.log(['core ToolkitClient under "API timeout":', ...reports.map((r) => r.line)].join('\n'));
    expect(reports.flatMap((r) => r.problems)).toEqual([]);
  }, 120_000);
});
