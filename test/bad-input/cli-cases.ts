/**
 * The bad-input row of the toolkit-ci CLI (its committed bundle, as a child process): each case breaks one
 * flag, setting or variable of an otherwise valid command pointed at the emulator, and must exit 2 (usage)
 * naming what is wrong, with no request sent, no Docker credential written (DOCKER_CONFIG, and the Drone
 * workspace folder for the plugin) and nothing exported (the run is a CircleCI step whose `--export auto`
 * would append to BASH_ENV).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../packages/cli/test/run-cli.js';
import type { EmulatorHandle } from '../../packages/emulator/src/index.js';
import {
  type BadCase,
  type BadInputEntryPoint,
  type BadInputRun,
  type KnownGap,
  secretsOf,
  TOKEN,
} from './entry-points.js';

/** A second token, passed where a token must never be: on the command line. */
const FLAG_TOKEN = 'ci-flagged-8c7b:Pw4+x/c=v%b"n\\m6';
/** A secret inside a malformed --env item. */
const ENV_SECRET = 's3cr3t-value-Zq9x';

interface CliCaseSpec {
  what: string;
  /** The flag, setting or variable at fault, as the error must name it. */
  input: string;
  /** Default: the `input` text itself. */
  names?: RegExp;
  /** argv (without node and the bundle); `e` is the emulator, `cwd` the step's working directory. */
  args(e: EmulatorHandle): string[];
  /** Changes to the step's environment (undefined removes a variable). */
  env?: (e: EmulatorHandle) => Record<string, string | undefined>;
  fix: RegExp;
  secrets?: string[];
  gap?: KnownGap;
}

const registries = (e: EmulatorHandle) => [
  '--registry',
  'both',
  '--registry-host',
  e.registryHost,
  '--volatile-registry-host',
  e.volatileRegistryHost,
];
/** `toolkit-ci login` against the emulator and its two registry endpoints: valid as it stands. */
const login = (e: EmulatorHandle, ...extra: string[]) => [
  'login',
  ...registries(e),
  '--api-url',
  e.url,
  ...extra,
];
const submit = (e: EmulatorHandle, ...extra: string[]) => [
  'job',
  'submit',
  '--api-url',
  e.url,
  '--image',
  'alpine:3.20',
  '--command',
  'echo should never run',
  '--wait',
  ...extra,
];
/** A Drone plugin step (PLUGIN_* settings) against the emulator, keeping credentials in the workspace. */
const plugin = (e: EmulatorHandle): Record<string, string | undefined> => ({
  DRONE: 'true',
  PLUGIN_TOKEN: TOKEN,
  EAI_TOKEN: undefined,
  PLUGIN_API_URL: e.url,
  PLUGIN_REGISTRY: 'both',
  PLUGIN_REGISTRY_HOST: e.registryHost,
  PLUGIN_VOLATILE_REGISTRY_HOST: e.volatileRegistryHost,
  PLUGIN_DOCKER_CONFIG: 'true',
});

const cases: CliCaseSpec[] = [
  {
    what: 'the token as a flag value',
    input: '--token',
    names: /--token is not accepted/,
    args: (e) => login(e, '--token', FLAG_TOKEN),
    fix: /Put the token in the environment variable EAI_TOKEN .*--token-file PATH\|-/,
    secrets: [FLAG_TOKEN],
  },
  {
    what: 'the token as --token=VALUE, before the command',
    input: '--token',
    names: /--token is not accepted/,
    args: (e) => [`--token=${FLAG_TOKEN}`, ...login(e)],
    fix: /--token-env NAME/,
    secrets: [FLAG_TOKEN],
  },
  {
    what: 'an unknown command',
    input: 'logn',
    names: /unknown command "logn"/,
    args: (e) => ['logn', ...registries(e), '--api-url', e.url],
    fix: /Run toolkit-ci --help for the list of commands/,
  },
  {
    what: 'an unknown flag (a typo)',
    input: '--registy',
    names: /unknown option --registy \(toolkit-ci login\)/,
    args: (e) => login(e, '--registy', 'volatile'),
    fix: /See toolkit-ci login --help/,
  },
  {
    what: 'a typo of a registry word',
    input: '--registry',
    args: (e) => ['login', '--registry', 'regualr', '--api-url', e.url],
    fix: /Did you mean "regular"\?/,
  },
  {
    what: 'a URL instead of a host',
    input: '--registry-host',
    args: (e) => ['login', '--registry-host', 'https://registry.example.com', '--api-url', e.url],
    fix: /Give the host without https:\/\//,
  },
  {
    what: 'an unknown word',
    input: '--export',
    args: (e) => login(e, '--export', 'bashenv'),
    fix: /must be auto, bash-env, github-env, dotenv=PATH or none/,
  },
  {
    what: 'bash-env without BASH_ENV',
    input: '--export bash-env',
    args: (e) => login(e, '--export', 'bash-env'),
    env: () => ({ BASH_ENV: undefined, CIRCLECI: undefined }),
    fix: /CircleCI sets BASH_ENV in every job; elsewhere use --export dotenv=PATH/,
  },
  {
    what: 'a file that does not exist',
    input: '--token-file',
    names: /The token file "[^"]*missing-token" \(--token-file\) does not exist/,
    args: (e) => login(e, '--token-file', 'missing-token'),
    fix: /Give the path of a file holding only the token, or - to read it from stdin/,
  },
  {
    what: 'with --token-env too',
    input: '--token-file',
    names: /--token-file and --token-env were both given/,
    args: (e) => login(e, '--token-file', '-', '--token-env', 'EAI_TOKEN'),
    fix: /Read the token from one place/,
  },
  {
    what: 'not a variable name',
    input: '--token-env',
    args: (e) => ['--token-env', 'EAI-TOKEN', 'whoami', '--api-url', e.url],
    fix: /Give the name of the variable that holds the token/,
  },
  {
    what: 'not set',
    input: 'EAI_TOKEN',
    names: /the environment variable EAI_TOKEN is not set or empty/,
    args: (e) => ['whoami', '--api-url', e.url],
    env: () => ({ EAI_TOKEN: undefined }),
    fix: /Set EAI_TOKEN from your CI's secret store/,
  },
  {
    what: 'plain http to a remote host',
    input: '--api-url',
    args: () => ['whoami', '--api-url', 'http://console.example.com'],
    fix: /Use https:\/\/console\.example\.com/,
  },
  {
    what: 'not a URL',
    input: '--api-url',
    args: () => ['whoami', '--api-url', 'console dot example'],
    fix: /Use an absolute URL such as https:\/\//,
  },
  {
    what: 'a query string',
    input: '--api-url',
    args: (e) => ['whoami', '--api-url', `${e.url}/?console=2`],
    fix: /Give the API base only/,
  },
  {
    what: 'no --image (and no --spec)',
    input: '--image',
    args: (e) => ['job', 'submit', '--api-url', e.url, '--command', 'echo x'],
    fix: /Set --image or "image" in the spec file/,
  },
  {
    what: 'a word',
    input: '--timeout-minutes',
    args: (e) => submit(e, '--timeout-minutes', 'soon'),
    fix: /must be a number of minutes > 0/,
  },
  {
    what: 'a word',
    input: '--cpu',
    args: (e) => submit(e, '--cpu', 'lots'),
    fix: /must be a number > 0/,
  },
  {
    what: 'upper case',
    input: '--name',
    args: (e) => submit(e, '--name', 'Train-Job'),
    fix: /Use lower-case letters, digits and underscores only/,
  },
  {
    what: "':' instead of '=' (a secret value)",
    input: '--env',
    args: (e) => submit(e, '--env', `DB_PASSWORD:${ENV_SECRET}`),
    fix: /must be NAME=VALUE or the NAME of a set variable\. Write it as NAME=VALUE/,
    secrets: [ENV_SECRET],
  },
  {
    what: 'a spec file that does not exist',
    input: '--spec',
    args: (e) => submit(e, '--spec', 'ci/missing.yml'),
    fix: /spec file "[^"]*missing\.yml" \(--spec\) does not exist\. Give the path of a YAML or JSON file/,
  },
  {
    what: 'no ID',
    input: 'job get',
    names: /toolkit-ci job get needs ID/,
    args: (e) => ['job', 'get', '--api-url', e.url],
    fix: /Usage: toolkit-ci job get ID \[options\]/,
  },
  // The Drone/Woodpecker plugin: PLUGIN_* settings
  {
    what: 'a typo of a registry word',
    input: 'setting "registry"',
    args: () => ['plugin'],
    env: (e) => ({ ...plugin(e), PLUGIN_REGISTRY: 'regualr' }),
    fix: /Did you mean "regular"\?/,
  },
  {
    what: 'an unknown setting (a typo)',
    input: 'setting "registy"',
    names: /Unknown plugin setting "registy"/,
    args: () => ['plugin'],
    env: (e) => ({ ...plugin(e), PLUGIN_REGISTY: 'both' }),
    fix: /Known settings: token, api_url, registry,/,
  },
  {
    what: '"maybe"',
    input: 'setting "verify"',
    args: () => ['plugin'],
    env: (e) => ({ ...plugin(e), PLUGIN_VERIFY: 'maybe' }),
    fix: /must be true or false/,
  },
  {
    what: 'plain http to a remote host',
    input: 'setting "api_url"',
    args: () => ['plugin'],
    env: (e) => ({ ...plugin(e), PLUGIN_API_URL: 'http://console.example.com' }),
    fix: /Use https:\/\/console\.example\.com/,
  },
  {
    what: 'a "Bearer " prefix',
    input: 'setting "token"',
    args: () => ['plugin'],
    env: (e) => ({ ...plugin(e), PLUGIN_TOKEN: `Bearer ${TOKEN}` }),
    fix: /Pass only the token/,
  },
  {
    what: 'without a job',
    input: 'setting "job_timeout_minutes"',
    args: () => ['plugin'],
    env: (e) => ({ ...plugin(e), PLUGIN_JOB_TIMEOUT_MINUTES: '30' }),
    fix: /Set job_image \(and job_command\) or job_spec to submit a job/,
  },
  {
    what: 'a word',
    input: 'setting "job_cpu"',
    args: () => ['plugin'],
    env: (e) => ({ ...plugin(e), PLUGIN_JOB_IMAGE: 'alpine:3.20', PLUGIN_JOB_CPU: 'lots' }),
    fix: /must be a number > 0/,
  },
  {
    what: "':' instead of '=' (a secret value)",
    input: 'setting "job_env"',
    args: () => ['plugin'],
    env: (e) => ({
      ...plugin(e),
      PLUGIN_JOB_IMAGE: 'alpine:3.20',
      PLUGIN_JOB_ENV: `DB_PASSWORD:${ENV_SECRET}`,
    }),
    fix: /must be NAME=VALUE or the NAME of a set variable\. Write it as NAME=VALUE/,
    secrets: [ENV_SECRET],
  },
  {
    what: 'a spec file that does not exist',
    input: 'setting "job_spec"',
    args: () => ['plugin'],
    env: (e) => ({ ...plugin(e), PLUGIN_JOB_SPEC: 'ci/missing.yml' }),
    fix: /spec file "[^"]*missing\.yml" \(setting "job_spec"\) does not exist\. Give the path/,
  },
];

function auths(text: string): string[] {
  try {
    return Object.keys((JSON.parse(text) as { auths?: object }).auths ?? {});
  } catch {
    return [];
  }
}

const readOr = (path: string) => readFile(path, 'utf8').catch(() => '');

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Binds a spec to a run of the CLI bundle in a CircleCI-like step (BASH_ENV) with a Drone workspace. */
function cliCase(spec: CliCaseSpec): BadCase {
  return {
    input: spec.input,
    what: spec.what,
    names: spec.names ?? new RegExp(escapeRegExp(spec.input)),
    fix: spec.fix,
    gap: spec.gap,
    async run(emulator): Promise<BadInputRun> {
      const dir = await mkdtemp(join(tmpdir(), 'toolkit-ci-bad-input-cli-'));
      const workspace = join(dir, 'workspace');
      const bashEnv = join(dir, 'bash_env');
      try {
        await mkdir(workspace);
        await writeFile(bashEnv, '');
        const env: Record<string, string | undefined> = {
          EAI_TOKEN: TOKEN,
          CIRCLECI: 'true',
          BASH_ENV: bashEnv,
          DRONE_WORKSPACE: workspace,
          ...spec.env?.(emulator),
        };
        const args = spec.args(emulator);
        const result = await runCli(args, { env, cwd: workspace });
        const credentials = [
          ...auths(await readOr(join(result.dockerConfig, 'config.json'))),
          ...auths(await readOr(join(workspace, '.toolkit-docker', 'config.json'))),
        ];
        const exported = (await readOr(bashEnv)).trim();
        return {
          exitCode: result.code,
          errors: result.stderr
            .split('\n')
            .filter((line) => line.startsWith('toolkit-ci: error: '))
            .map((line) => line.slice('toolkit-ci: error: '.length)),
          output: `${result.stdout}\n${result.stderr}`,
          exported: exported === '' ? {} : { BASH_ENV: exported },
          outputs: {},
          credentials,
          cleanupOk: true,
          secrets: secretsOf([TOKEN, env.PLUGIN_TOKEN, ...(spec.secrets ?? [])]),
          cleanup: async () => {
            await result.cleanup();
            await rm(dir, { recursive: true, force: true });
          },
        };
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    },
  };
}

/** The toolkit-ci CLI bundle: commands, flags, and the plugin's PLUGIN_* settings. */
export const cli: BadInputEntryPoint = {
  name: 'toolkit-ci CLI (bundle)',
  minCases: 10,
  exitCode: 2,
  cases: cases.map(cliCase),
};
