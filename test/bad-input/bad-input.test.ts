/**
 * The bad-input suite: every input of every entry point given a malformed value (empty, whitespace, a
 * newline inside, an unknown registry word, a bad host, a non-boolean boolean, plain http to a remote API,
 * both `token` and `token-source: job` …). Each must fail the step with an error that names the input and
 * says how to fix it, a non-zero exit, before anything is done: no request reaches Toolkit or a registry,
 * no Docker credential is written (not even between main and post), nothing is exported, no output is
 * set, and the token (or the malformed value standing for it) is in no output.
 *
 * Entry points are rows of `entryPoints`; each lists its own cases.
 * TODO(actions/job): add its row (inputs such as image, command, env, cpu, mem, gpu, max-run-time, spec,
 * wait, follow-logs, timeout-minutes, cancel-on-abort) when it lands.
 * TODO(toolkit-ci CLI): add `toolkit-ci login` (flags and PLUGIN_* settings) when it lands.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { type EmulatorHandle, startEmulator } from '../../packages/emulator/src/index.js';
import { authHosts, errorMessages, type IsolatedRun, runActionIsolated } from '../support/isolated-run.js';
import { REPO_ROOT } from '../support/nodes.js';
import { mapPool } from '../support/pool.js';
import { findForms, tokenForms, withoutMaskCommands } from '../support/token-forms.js';

const TOKEN = 'ci-badinput-5d6e:Tz8+k/p=q%w"e\\r2';
const UNRELATED = { auths: { 'unrelated.example.com': { auth: 'dW5yZWxhdGVk' } } };

interface BadInput {
  /** What is wrong, for the report. */
  what: string;
  /** The input the error must name (as `input "NAME"`, unless `names` says otherwise). */
  input: string;
  names?: RegExp;
  /** Inputs replacing the valid baseline; a function gets the emulator (for loopback URLs). */
  with: Record<string, string> | ((emulator: EmulatorHandle) => Record<string, string>);
  /** The fix the error must state. */
  fix: RegExp;
}

interface BadInputRun {
  exitCode: number | null;
  errors: string[];
  /** Raw stdout (without ::add-mask::) and stderr of every step. */
  output: string;
  exported: Record<string, string>;
  outputs: Record<string, string>;
  /** Registry hosts with a credential after main and after the clean-up, besides pre-existing ones. */
  credentials: string[];
  cleanupOk: boolean;
  cleanup(): Promise<void>;
}

interface BadInputEntryPoint {
  name: string;
  cases: BadInput[];
  run(inputs: Record<string, string>, emulator: EmulatorHandle): Promise<BadInputRun>;
}

const loginCases: BadInput[] = [
  // token
  {
    what: 'empty',
    input: 'token',
    with: { token: '' },
    fix: /Set it from a CI secret that holds a Toolkit token/,
  },
  { what: 'only whitespace', input: 'token', with: { token: '  \n\t ' }, fix: /Set it from a CI secret/ },
  {
    what: 'a newline inside',
    input: 'token',
    with: { token: 'Ab3-first-line\nCd4-second-line' },
    fix: /A token is a single word/,
  },
  {
    what: 'a space inside',
    input: 'token',
    with: { token: 'Ab3-left Cd4-right' },
    fix: /A token is a single word/,
  },
  {
    what: 'a "Bearer " prefix',
    input: 'token',
    with: { token: 'Bearer Ef5-pasted-header' },
    fix: /Pass only the token/,
  },
  {
    what: 'a whole Authorization header',
    input: 'token',
    with: { token: 'Authorization: Bearer Gh6-pasted' },
    fix: /Pass only the token/,
  },
  {
    what: 'two colons',
    input: 'token',
    with: { token: 'acc3ss-key:s3cr3t-part:extra9' },
    fix: /joined by exactly one colon/,
  },
  {
    what: 'an empty ACCESS part',
    input: 'token',
    with: { token: ':s3cr3t-only-Ij7' },
    fix: /both parts non-empty/,
  },
  {
    what: 'an empty SECRET part',
    input: 'token',
    with: { token: 'acc3ss-only-Kl8:' },
    fix: /both parts non-empty/,
  },
  {
    what: 'a control character',
    input: 'token',
    with: { token: 'Mn9-bell\u0007char' },
    fix: /copy the token again/,
  },
  {
    what: 'a typographic dash',
    input: 'token',
    with: { token: 'Op0\u2013dash-token' },
    fix: /typographic quotes or dashes/,
  },
  // token-source and job-token-url
  {
    what: 'an unknown word',
    input: 'token-source',
    with: { 'token-source': 'jobs' },
    fix: /Set "token-source" to one of: input, job/,
  },
  { what: 'empty', input: 'token-source', with: { 'token-source': '' }, fix: /Set "token-source" to one of/ },
  {
    what: 'both token and token-source: job',
    input: 'token-source',
    names: /Inputs "token" and "token-source: job"/,
    with: { 'token-source': 'job' },
    fix: /Either pass "token" .* or set "token-source: job" .*, not both/,
  },
  {
    what: 'set without token-source: job',
    input: 'job-token-url',
    with: { 'job-token-url': 'https://internal.console.example.com/v1/token' },
    fix: /Remove "job-token-url", or set "token-source: job"/,
  },
  {
    what: 'plain http to a remote host',
    input: 'job-token-url',
    with: {
      token: '',
      'token-source': 'job',
      'job-token-url': 'http://internal.console.example.com/v1/token',
    },
    fix: /Use https:\/\/internal\.console\.example\.com/,
  },
  // registry
  {
    what: 'a typo of a word',
    input: 'registry',
    with: { registry: 'regualr' },
    fix: /Did you mean "regular"\?/,
  },
  {
    what: 'another typo',
    input: 'registry',
    with: { registry: 'volatil' },
    fix: /Did you mean "volatile"\?/,
  },
  {
    what: '"none" with others',
    input: 'registry',
    with: { registry: 'none,regular' },
    fix: /Use "none" alone/,
  },
  {
    what: 'only separators',
    input: 'registry',
    with: { registry: ' ,\n, ' },
    fix: /Use regular, volatile, both, none, or registry hosts/,
  },
  {
    what: 'a URL instead of a host',
    input: 'registry',
    with: { registry: 'https://registry.example.com' },
    fix: /Give the host without https:\/\/, e.g. "registry\.example\.com"/,
  },
  {
    what: 'an image path',
    input: 'registry',
    with: { registry: 'registry.example.com/acme.ml/trainer' },
    fix: /Give only host\[:port\], e\.g\. "registry\.example\.com"/,
  },
  {
    what: 'a user name',
    input: 'registry',
    with: { registry: 'console@registry.example.com' },
    fix: /Give only host\[:port\]/,
  },
  {
    what: 'a port out of range',
    input: 'registry',
    with: { registry: 'registry.example.com:99999' },
    fix: /A port is a number from 1 to 65535/,
  },
  {
    what: 'an IPv6 address without brackets',
    input: 'registry',
    with: { registry: '::1' },
    fix: /Put an IPv6 address in brackets, e\.g\. "\[::1\]:5000"/,
  },
  {
    what: 'a bad host name',
    input: 'registry',
    with: { registry: 'bad_host!' },
    fix: /Give a DNS name, an IPv4 address or an IPv6 address in brackets/,
  },
  // registry-host and volatile-registry-host
  {
    what: 'a URL instead of a host',
    input: 'registry-host',
    with: { 'registry-host': 'https://registry.example.com' },
    fix: /Give the host without https:\/\//,
  },
  {
    what: 'two lines',
    input: 'registry-host',
    with: { 'registry-host': 'a.example.com\nb.example.com' },
    fix: /Remove the line break from "registry-host"/,
  },
  {
    what: 'a space inside',
    input: 'volatile-registry-host',
    with: { 'volatile-registry-host': 'volatile registry.example.com' },
    fix: /Give a DNS name/,
  },
  // api-url
  {
    what: 'plain http to a remote host',
    input: 'api-url',
    with: { 'api-url': 'http://console.example.com' },
    fix: /Use https:\/\/console\.example\.com/,
  },
  {
    what: 'not a URL',
    input: 'api-url',
    with: { 'api-url': 'console dot example' },
    fix: /Use an absolute URL such as https:\/\//,
  },
  {
    what: 'another scheme',
    input: 'api-url',
    with: { 'api-url': 'ftp://console.example.com' },
    fix: /Use https:\/\/console\.example\.com/,
  },
  {
    what: 'credentials in the URL',
    input: 'api-url',
    with: { 'api-url': 'https://console:Qr1-url-password@console.example.com' },
    fix: /Remove the user name and password from the URL/,
  },
  {
    what: 'two lines',
    input: 'api-url',
    with: { 'api-url': 'https://console.example.com\nhttps://other.example.com' },
    fix: /Remove the line break from "api-url"/,
  },
  {
    what: 'a query',
    input: 'api-url',
    with: (emulator) => ({ 'api-url': `${emulator.url}/?console=2` }),
    fix: /Give the API base only, e\.g\. http:\/\/127\.0\.0\.1:\d+$/,
  },
  // booleans
  { what: '"yes"', input: 'verify', with: { verify: 'yes' }, fix: /Set "verify: true" or "verify: false"/ },
  { what: 'empty', input: 'verify', with: { verify: '' }, fix: /Set "verify: true" or "verify: false"/ },
  {
    what: '"maybe"',
    input: 'export-env',
    with: { 'export-env': 'maybe' },
    fix: /Set "export-env: true" or "export-env: false"/,
  },
  { what: '"1"', input: 'logout', with: { logout: '1' }, fix: /Set "logout: true" or "logout: false"/ },
];

const loginAction: BadInputEntryPoint = {
  name: 'actions/login',
  cases: loginCases,
  async run(inputs, emulator) {
    const run: IsolatedRun = await runActionIsolated({
      action: `${REPO_ROOT}/actions/login`,
      // A valid baseline: each case breaks one thing, so the error can only come from that input.
      with: {
        token: TOKEN,
        'api-url': emulator.url,
        registry: 'both',
        'registry-host': emulator.registryHost,
        'volatile-registry-host': emulator.volatileRegistryHost,
        ...inputs,
      },
      dockerConfig: UNRELATED,
    });
    const { result } = run;
    const unrelated = (hosts: string[]) => hosts.filter((host) => !(host in UNRELATED.auths));
    return {
      exitCode: result.main.exitCode,
      errors: [...errorMessages(result.main), ...errorMessages(result.post)],
      output: [result.main, result.post]
        .flatMap((phase) => (phase ? [withoutMaskCommands(phase.stdout), phase.stderr] : []))
        .join('\n'),
      exported: result.exportedEnv,
      outputs: result.outputs,
      credentials: [
        ...unrelated(authHosts(run.dockerConfigAfterMain)),
        ...unrelated(authHosts(run.dockerConfigAfterPost)),
      ],
      cleanupOk: result.post?.exitCode === 0,
      cleanup: run.cleanup,
    };
  },
};

const entryPoints: BadInputEntryPoint[] = [loginAction];
const counts = { cases: 0, forms: 0 };

afterAll(() => {
  console.log(
    `Bad-input suite totals: ${counts.cases} cases run, ${counts.forms} token forms checked in their output`,
  );
});

describe.each(entryPoints.map((entry) => [entry.name, entry] as const))(
  'bad inputs of %s',
  (_name, entry) => {
    it(`${entry.cases.length} malformed inputs: each fails first, naming the input and the fix, leaving nothing`, async () => {
      expect(entry.cases.length).toBeGreaterThanOrEqual(30);
      const reports = await mapPool(entry.cases, 3, async (bad) => {
        // One emulator per case: its journal shows that nothing at all was asked of Toolkit or a registry.
        const emulator = await startEmulator({ timeScale: 5, tokens: [{ token: TOKEN, kind: 'role' }] });
        const label = `${bad.input}: ${bad.what}`;
        let run: BadInputRun | undefined;
        try {
          const inputs = typeof bad.with === 'function' ? bad.with(emulator) : bad.with;
          run = await entry.run(inputs, emulator);
          const problems: string[] = [];
          const error = run.errors.join('\n');
          if (run.exitCode === 0 || run.exitCode === null) problems.push(`exit code ${run.exitCode}`);
          if (!(bad.names ?? new RegExp(`input "${bad.input}"`, 'i')).test(error))
            problems.push('the error does not name the input');
          if (!bad.fix.test(error)) problems.push(`the error does not say the fix ${bad.fix}`);
          if (run.credentials.length > 0)
            problems.push(`credentials written for ${run.credentials.join(', ')}`);
          if (Object.keys(run.exported).length > 0)
            problems.push(`exported ${Object.keys(run.exported).join(', ')}`);
          if (Object.keys(run.outputs).length > 0)
            problems.push(`set outputs ${Object.keys(run.outputs).join(', ')}`);
          if (emulator.journal.length > 0)
            problems.push(`${emulator.journal.length} request(s) reached the emulator`);
          if (!run.cleanupOk) problems.push('the clean-up step failed');
          // Neither the valid token nor a malformed one (a secret all the same) may be printed.
          const secrets = [TOKEN, inputs.token].filter(
            (value): value is string => !!value && value.trim().length >= 8,
          );
          for (const secret of secrets) {
            const forms = tokenForms(secret.trim());
            counts.forms += forms.length;
            for (const found of findForms(forms, [{ name: 'output', text: run.output }])) {
              problems.push(`${found.form} of a token found in the ${found.sink}`);
            }
          }
          counts.cases += 1;
          return {
            line: `  ${problems.length ? '✗' : '✓'} ${label.padEnd(52)} exit=${run.exitCode}  ${error.split('\n')[0]?.slice(0, 150)}`,
            problems: problems.map((problem) => `${label}: ${problem}`),
          };
        } finally {
          await run?.cleanup();
          await emulator.close();
        }
      });
      console.log([`${entry.name}: ${reports.length} bad inputs`, ...reports.map((r) => r.line)].join('\n'));
      expect(reports.flatMap((r) => r.problems)).toEqual([]);
    }, 120_000);
  },
);
