/**
 * The bad-input suite: every input of every entry point given a malformed value (empty, whitespace, a
 * newline inside, an unknown registry word, a bad host, a non-boolean boolean, plain http to a remote API,
 * both `token` and `token-source: job` …). Each must fail the step with an error that names the input and
 * says how to fix it, a non-zero exit, before anything is done: no request reaches Toolkit or a registry,
 * no Docker credential is written (not even between main and post), nothing is exported, no output is
 * set, and the token (or the malformed value standing for it, or a secret inside the bad value) is in no
 * output.
 *
 * Entry points are rows (entry-points.ts says what a row is): actions/login (below), actions/job
 * (job-cases.ts: image, name, resources, env, tags, data, command, booleans, durations, spec file, api-url,
 * token source) and the toolkit-ci CLI bundle (cli-cases.ts: `--token` refused, unknown command and flag,
 * registry, export, token file and variable, api-url, job submit flags, and the plugin's PLUGIN_* settings;
 * every case must exit 2, the CLI's usage code). Each lists its own cases.
 *
 * A case may carry a known product gap (KnownGap): the one check it is known to fail is reported with the
 * gap, not hidden, and the case fails once the product is fixed, so the gap is removed with the fix.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { type EmulatorHandle, startEmulator } from '../../packages/emulator/src/index.js';
import { REPO_ROOT } from '../support/nodes.js';
import { mapPool } from '../support/pool.js';
import { findForms, tokenForms } from '../support/token-forms.js';
import { cli } from './cli-cases.js';
import {
  type ActionCaseSpec,
  actionCases,
  type BadCase,
  type BadInputEntryPoint,
  type BadInputRun,
  TOKEN,
} from './entry-points.js';
import { jobAction } from './job-cases.js';

const UNRELATED = { auths: { 'unrelated.example.com': { auth: 'dW5yZWxhdGVk' } } };

const loginCases: ActionCaseSpec[] = [
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
  minCases: 30,
  cases: actionCases(
    {
      action: `${REPO_ROOT}/actions/login`,
      // A valid baseline: each case breaks one thing, so the error can only come from that input.
      baseline: (emulator) => ({
        token: TOKEN,
        'api-url': emulator.url,
        registry: 'both',
        'registry-host': emulator.registryHost,
        'volatile-registry-host': emulator.volatileRegistryHost,
      }),
      dockerConfig: UNRELATED,
    },
    loginCases,
  ),
};

const entryPoints: BadInputEntryPoint[] = [loginAction, jobAction, cli];
const counts = { cases: 0, forms: 0, gaps: [] as string[] };

afterAll(() => {
  console.log(
    [
      `Bad-input suite totals: ${counts.cases} cases run, ${counts.forms} secret forms checked in their output, ` +
        `${counts.gaps.length} known product gap(s) (marked ⚠):`,
      ...counts.gaps.map((gap) => `  ⚠ ${gap}`),
    ].join('\n'),
  );
});

/** Every check of the suite on one run: the problems found (names and kinds only, never a value). */
function problemsOf(bad: BadCase, run: BadInputRun, emulator: EmulatorHandle, exitCode?: number): string[] {
  const problems: string[] = [];
  const error = run.errors.join('\n');
  if (run.exitCode === 0 || run.exitCode === null || (exitCode !== undefined && run.exitCode !== exitCode))
    problems.push(`exit code ${run.exitCode}${exitCode !== undefined ? `, expected ${exitCode}` : ''}`);
  if (!bad.names.test(error)) problems.push('the error does not name the input');
  if (!bad.fix.test(error)) problems.push(`the error does not say the fix ${bad.fix}`);
  if (run.credentials.length > 0) problems.push(`credentials written for ${run.credentials.join(', ')}`);
  if (Object.keys(run.exported).length > 0) problems.push(`exported ${Object.keys(run.exported).join(', ')}`);
  if (Object.keys(run.outputs).length > 0)
    problems.push(`set outputs ${Object.keys(run.outputs).join(', ')}`);
  if (emulator.journal.length > 0)
    problems.push(`${emulator.journal.length} request(s) reached the emulator`);
  if (!run.cleanupOk) problems.push('the clean-up step failed');
  // Neither the valid token nor a malformed one (a secret all the same) nor a secret inside the bad value.
  for (const secret of run.secrets) {
    const forms = tokenForms(secret);
    counts.forms += forms.length;
    for (const found of findForms(forms, [{ name: 'output', text: run.output }])) {
      problems.push(`${found.form} of a secret found in the ${found.sink}`);
    }
  }
  return problems;
}

describe.each(entryPoints.map((entry) => [entry.name, entry] as const))(
  'bad inputs of %s',
  (_name, entry) => {
    it(`${entry.cases.length} malformed inputs: each fails first, naming the input and the fix, leaving nothing`, async () => {
      expect(entry.cases.length).toBeGreaterThanOrEqual(entry.minCases);
      const reports = await mapPool(entry.cases, 3, async (bad) => {
        // One emulator per case: its journal shows that nothing at all was asked of Toolkit or a registry.
        const emulator = await startEmulator({ timeScale: 5, tokens: [{ token: TOKEN, kind: 'role' }] });
        const label = `${bad.input}: ${bad.what}`;
        let run: BadInputRun | undefined;
        try {
          run = await bad.run(emulator);
          let problems = problemsOf(bad, run, emulator, entry.exitCode);
          let mark = problems.length ? '✗' : '✓';
          if (bad.gap) {
            const gap = bad.gap;
            if (problems.some((problem) => gap.problem.test(problem))) {
              problems = problems.filter((problem) => !gap.problem.test(problem));
              counts.gaps.push(`${entry.name} ${label}: ${gap.what}`);
              mark = problems.length ? '✗' : '⚠';
            } else {
              problems.push(`the known gap is gone (${gap.what}): remove it from the case`);
              mark = '✗';
            }
          }
          counts.cases += 1;
          const error = run.errors.join(' | ');
          return {
            line: `  ${mark} ${label.padEnd(60)} exit=${run.exitCode}  ${error.slice(0, 150)}`,
            problems: problems.map((problem) => `${label}: ${problem}`),
          };
        } finally {
          await run?.cleanup();
          await emulator.close();
        }
      });
      console.log([`${entry.name}: ${reports.length} bad inputs`, ...reports.map((r) => r.line)].join('\n'));
      expect(reports.flatMap((r) => r.problems)).toEqual([]);
    }, 180_000);
  },
);
