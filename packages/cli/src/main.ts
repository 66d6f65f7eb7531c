/**
 * The CLI's dispatcher: finds the command, parses its flags, runs it, and turns any error into a redacted
 * message and a documented exit code. Nothing reaches stdout or stderr except through `Output`.
 */
import { EXIT_CODES, exitCodeOf, Secrets, ToolkitCiError } from '../../core/src/index.js';
import {
  type CommandSpec,
  helpText,
  type ParsedCommand,
  parseCommand,
  splitCommand,
  tokenFlagValues,
} from './args.js';
import { apiSpec, runApi } from './commands/api.js';
import { runEmulator } from './commands/emulator.js';
import { jobSpecs, runJob } from './commands/job.js';
import { loginSpec, runLogin } from './commands/login.js';
import { logoutSpec, runLogout } from './commands/logout.js';
import { runWhoami, whoamiSpec } from './commands/whoami.js';
import { type CliContext, type CliIo, DEFAULT_TOKEN_ENV } from './context.js';
import { Output } from './output.js';
import { runPlugin } from './plugin.js';
import { VERSION } from './version.js';

type Runner = (ctx: CliContext, parsed: ParsedCommand) => Promise<number>;

const COMMANDS: Record<string, { spec: CommandSpec; run: Runner }> = {
  login: { spec: loginSpec, run: runLogin },
  logout: { spec: logoutSpec, run: runLogout },
  whoami: { spec: whoamiSpec, run: runWhoami },
  api: { spec: apiSpec, run: runApi },
  ...Object.fromEntries(
    Object.entries(jobSpecs).map(([sub, spec]) => [
      `job ${sub}`,
      { spec, run: (ctx: CliContext, parsed: ParsedCommand) => runJob(ctx, sub, parsed) },
    ]),
  ),
};

const pluginSpec: CommandSpec = {
  name: 'plugin',
  usage: '',
  summary:
    'Drone/Woodpecker plugin mode: reads the step settings from PLUGIN_* variables (token, api_url, registry, ' +
    'registry_host, volatile_registry_host, verify, docker_config, job_*). See packages/drone-plugin/README.md.',
  options: [],
};

export const USAGE = `Usage: toolkit-ci COMMAND [options]

Use Toolkit from any CI: verify a token, log Docker in to the Toolkit registries, export EAI_TOKEN for later
steps, and run Toolkit jobs. Everything it prints is redacted: no form of the token is ever shown.

Commands:
  login           verify the token, docker login to the registries, export EAI_TOKEN
  logout          remove the Docker credentials of the registries
  whoami          print who the token is
  job submit      submit a job (--wait/--follow to wait for it)
  job get ID      print a job's state
  job logs ID     print (--follow: stream) a job's log
  job wait ID     wait until a job ends
  job cancel ID   cancel a job
  api METHOD PATH call the Toolkit API
  emulator        start a local Toolkit emulator
  plugin          Drone/Woodpecker plugin mode (PLUGIN_* settings)

The token comes from $EAI_TOKEN, or --token-env NAME, or --token-file PATH (- for stdin); never from a flag.
--api-url defaults to $EAI_CONSOLE_URL, else https://console.elementai.com.
Run toolkit-ci COMMAND --help for a command's options; toolkit-ci --version for the version.

Exit codes: 0 ok, 1 internal error, 2 usage, 3 auth (401/403), 4 Toolkit or registry unreachable,
5 unexpected API answer, 6 docker CLI missing or failed, 7 job did not succeed.
`;

/** What kind of word `words` is, for splitCommand: a command, a group ('job'), or neither. */
function commandKind(words: string[]): 'leaf' | 'group' | undefined {
  const name = words.join(' ');
  if (name in COMMANDS || name === 'emulator' || name === 'plugin') return 'leaf';
  if (name === 'job') return 'group';
  return undefined;
}

/**
 * Runs the CLI with `argv` (without node and the script) and answers the exit code. Every form of the
 * token in the environment is registered for redaction first, so not even a crash can print it.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const secrets = new Secrets();
  secrets.addRaw(io.env[DEFAULT_TOKEN_ENV] ?? '');
  // A token wrongly passed as --token VALUE is refused below; it must not be echoed on the way.
  for (const value of tokenFlagValues(argv)) secrets.addRaw(value);
  const quiet = argv.includes('-q') || argv.includes('--quiet');
  const out = new Output({ stdout: io.stdout, stderr: io.stderr, secrets, quiet });
  const ctx: CliContext = { io, out, secrets };
  try {
    return await dispatch(ctx, argv);
  } catch (error) {
    out.error(describeError(error));
    return exitCodeOf(error);
  } finally {
    out.flush();
  }
}

async function dispatch(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const { command, rest } = splitCommand(argv, commandKind);
  const name = command.join(' ');
  // The token name given with --token-env is registered as soon as it is known, for every command.
  const tokenEnvAt = rest.indexOf('--token-env');
  const tokenEnv =
    tokenEnvAt >= 0 ? rest[tokenEnvAt + 1] : rest.find((a) => a.startsWith('--token-env='))?.slice(12);
  if (tokenEnv && /^[A-Za-z_][A-Za-z0-9_]*$/.test(tokenEnv)) ctx.secrets.addRaw(ctx.io.env[tokenEnv] ?? '');

  if (name === '') {
    if (rest.includes('--version') || rest.includes('-v')) {
      ctx.out.result(VERSION);
      return EXIT_CODES.ok;
    }
    if (rest.length === 0) {
      ctx.out.stderr.write(USAGE);
      return EXIT_CODES.usage;
    }
    if (rest.includes('--help') || rest.includes('-h') || rest[0] === 'help') {
      ctx.out.stdout.write(USAGE);
      return EXIT_CODES.ok;
    }
    const word = rest.find((arg) => !arg.startsWith('-'));
    throw new ToolkitCiError('usage', word ? `unknown command ${JSON.stringify(word)}` : 'no command given', {
      hint: 'Run toolkit-ci --help for the list of commands',
    });
  }
  if (name === 'job') {
    throw new ToolkitCiError('usage', `toolkit-ci job needs one of: ${Object.keys(jobSpecs).join(', ')}`, {
      hint: 'e.g. toolkit-ci job submit --image IMAGE --command SCRIPT --follow',
    });
  }
  if (name === 'emulator') return runEmulator(ctx, rest);
  if (name === 'plugin') {
    const parsed = parseCommand(pluginSpec, rest);
    if (parsed.values.help) return printHelp(ctx, pluginSpec);
    return runPlugin(ctx);
  }
  const entry = COMMANDS[name] as { spec: CommandSpec; run: Runner };
  const parsed = parseCommand(entry.spec, rest);
  if (parsed.values.help) return printHelp(ctx, entry.spec);
  return entry.run(ctx, parsed);
}

function printHelp(ctx: CliContext, spec: CommandSpec): number {
  ctx.out.stdout.write(helpText(spec));
  return EXIT_CODES.ok;
}

/** The message of an error for stderr; an unexpected one says it is a bug. */
function describeError(error: unknown): string {
  if (error instanceof ToolkitCiError) return error.message;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return `internal error (please report it): ${message}`;
}
