/**
 * The bad-input row of actions/job: each case breaks one input of a valid step (token, loopback API, image,
 * command) and must fail main before any request, with nothing submitted for post to clean up.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/nodes.js';
import { type ActionCaseSpec, actionCases, type BadInputEntryPoint, TOKEN } from './entry-points.js';

/** A secret inside a malformed value: the error must point at the line, never quote it. */
const ENV_SECRET = 'pa55-w0rd-Zq9x';
const FILE_SECRET = 's3cr3t-in-file-Zq9';

/** Spec files the cases point `spec` at, in the workspace (the step's working directory). */
async function specFiles(workspace: string): Promise<void> {
  await mkdir(join(workspace, 'ci'));
  await writeFile(
    join(workspace, 'ci', 'broken.yml'),
    `image: alpine:3.20\nenvironmentVars: [DB_PASSWORD=${FILE_SECRET}\ncommand: [sh, -c\n`,
  );
  await writeFile(join(workspace, 'ci', 'typo.yml'), 'image: alpine:3.20\nenv: [MODE=ci]\n');
}

const cases: ActionCaseSpec[] = [
  // image and name
  {
    what: 'no image (and no spec file)',
    input: 'image',
    with: { image: '' },
    fix: /Set input "image" or "image" in input "spec"/,
  },
  {
    what: 'two lines',
    input: 'image',
    with: { image: 'alpine:3.20\nbusybox:1' },
    fix: /must be a single line/,
  },
  {
    what: 'upper case and a dash',
    input: 'name',
    with: { name: 'Train-Job' },
    fix: /Use lower-case letters, digits and underscores only/,
  },
  // resources
  { what: 'a word', input: 'cpu', with: { cpu: 'two' }, fix: /must be a number > 0/ },
  { what: 'zero', input: 'cpu', with: { cpu: '0' }, fix: /must be a number > 0/ },
  { what: 'a unit after the number', input: 'mem', with: { mem: '16GB' }, fix: /must be a number > 0/ },
  { what: 'a fraction', input: 'gpu', with: { gpu: '1.5' }, fix: /must be a whole number >= 0/ },
  { what: 'a word', input: 'gpu-mem', with: { 'gpu-mem': 'lots' }, fix: /must be a number > 0/ },
  // env, tags, data
  {
    what: "a line without '=' (a secret after a space)",
    input: 'env',
    with: { env: `DB_PASSWORD ${ENV_SECRET}` },
    fix: /line 1 must look like NAME=VALUE/,
    secrets: [ENV_SECRET],
  },
  {
    what: 'a name starting with a digit',
    input: 'env',
    with: { env: `MODE=ci\n1DB_PASSWORD=${ENV_SECRET}` },
    fix: /line 2 must look like NAME=VALUE\. NAME is letters, digits and underscores, not starting with a digit/,
    secrets: [ENV_SECRET],
  },
  { what: 'no key', input: 'tags', with: { tags: 'team=ml\n=v1' }, fix: /line 2 must look like key=value/ },
  {
    what: 'no mount path',
    input: 'data',
    with: { data: 'acme.ml.dataset' },
    fix: /must look like <data>\[@version\]\[\/sub\]:\/mount\[:ro\|rw\]/,
  },
  // command
  {
    what: 'a "[" that is not JSON',
    input: 'command',
    with: { command: '[not json' },
    fix: /Give a JSON array of strings \(the argv\), or a shell script that does not start with "\["/,
  },
  {
    what: 'an empty JSON array',
    input: 'command',
    with: { command: '[]' },
    fix: /must be a non-empty JSON array of strings/,
  },
  // booleans, durations
  { what: '"yes"', input: 'restartable', with: { restartable: 'yes' }, fix: /must be true or false/ },
  { what: '"yes"', input: 'wait', with: { wait: 'yes' }, fix: /Set "wait: true" or "wait: false"/ },
  {
    what: '"1"',
    input: 'follow-logs',
    with: { 'follow-logs': '1' },
    fix: /Set "follow-logs: true" or "follow-logs: false"/,
  },
  {
    what: '"sure"',
    input: 'cancel-on-abort',
    with: { 'cancel-on-abort': 'sure' },
    fix: /Set "cancel-on-abort: true" or "cancel-on-abort: false"/,
  },
  {
    what: 'a word',
    input: 'max-run-time',
    with: { 'max-run-time': 'forever' },
    fix: /must be seconds or a duration such as 90m, 2h, 1h30m/,
  },
  {
    what: 'zero',
    input: 'timeout-minutes',
    with: { 'timeout-minutes': '0' },
    fix: /Set e\.g\. "timeout-minutes: 30", or remove it/,
  },
  {
    what: 'a unit after the number',
    input: 'timeout-minutes',
    with: { 'timeout-minutes': '30m' },
    fix: /Set e\.g\. "timeout-minutes: 30"/,
  },
  // spec file
  {
    what: 'a file that does not exist',
    input: 'spec',
    with: { spec: 'ci/missing.yml' },
    fix: /relative path is resolved from the working directory \(the workspace\), so check the repository out/,
  },
  {
    what: 'invalid YAML (a secret on the broken line)',
    input: 'spec',
    with: { spec: 'ci/broken.yml' },
    fix: /is not valid YAML \(line \d+, column \d+\)/,
    secrets: [FILE_SECRET],
  },
  {
    what: 'an unknown field (env instead of environmentVars)',
    input: 'spec',
    with: { spec: 'ci/typo.yml' },
    fix: /unknown field "env"\. Known fields: image, command, environmentVars/,
  },
  // where the token goes, and the token itself
  {
    what: 'plain http to a remote host',
    input: 'api-url',
    with: { 'api-url': 'http://console.example.com' },
    fix: /Use https:\/\/console\.example\.com/,
  },
  {
    what: 'plain http to a remote host, from EAI_CONSOLE_URL (api-url empty)',
    input: 'api-url',
    names: /EAI_CONSOLE_URL/,
    with: { 'api-url': '' },
    env: { EAI_CONSOLE_URL: 'http://console.example.com' },
    fix: /Use https:\/\/console\.example\.com/,
  },
  {
    what: 'both token and token-source: job',
    input: 'token-source',
    names: /Inputs "token" and "token-source: job"/,
    with: { 'token-source': 'job' },
    fix: /Either pass "token" or set "token-source: job" .*, not both/,
  },
  {
    what: 'an unknown word',
    input: 'token-source',
    with: { 'token-source': 'jobs' },
    fix: /Set "token-source" to one of: input, job/,
  },
  {
    what: 'set without token-source: job',
    input: 'job-token-url',
    with: { 'job-token-url': 'https://internal.console.example.com/v1/token' },
    fix: /Remove "job-token-url", or set "token-source: job"/,
  },
  {
    what: 'empty, and no EAI_TOKEN',
    input: 'token',
    with: { token: '' },
    fix: /run actions\/login earlier in the job \(it exports EAI_TOKEN\)/,
  },
  {
    what: 'a "Bearer " prefix',
    input: 'token',
    with: { token: `Bearer ${TOKEN}` },
    fix: /Pass only the token/,
  },
  {
    what: 'two lines',
    input: 'account',
    with: { account: 'acme.ml\nacme.other' },
    fix: /Remove the line break from "account"/,
  },
];

/** actions/job from its committed bundle: every malformed input. */
export const jobAction: BadInputEntryPoint = {
  name: 'actions/job',
  minCases: 15,
  cases: actionCases(
    {
      action: `${REPO_ROOT}/actions/job`,
      baseline: (emulator) => ({
        token: TOKEN,
        'api-url': emulator.url,
        image: 'alpine:3.20',
        command: 'echo should never run',
      }),
      env: { TOOLKIT_CI_POLL_INITIAL_MS: '20' },
      prepareWorkspace: specFiles,
    },
    cases,
  ),
};
