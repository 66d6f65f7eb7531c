/**
 * Command-line parsing on node:util parseArgs, from one declarative table per command, which also writes
 * each command's --help. The token never comes from a flag (it would sit in the process's argv, readable by
 * every process on the machine through /proc and printed by shells with `set -x`): `--token` is refused.
 */
import { parseArgs } from 'node:util';
import { ToolkitCiError } from '../../core/src/index.js';

export interface OptionSpec {
  /** Long name without the dashes, e.g. 'api-url'. */
  name: string;
  type: 'string' | 'boolean';
  short?: string;
  /** Repeatable: every occurrence is kept, in order. */
  multiple?: boolean;
  /** How the help names the value, e.g. 'URL'. */
  value?: string;
  description: string;
}

export interface CommandSpec {
  /** e.g. 'login' or 'job submit'. */
  name: string;
  /** What comes after the name in the usage line, e.g. '[options]' or 'ID [options]'. */
  usage: string;
  summary: string;
  options: OptionSpec[];
  /** Extra help paragraphs (exit codes, examples). */
  details?: string;
  /** How many positional arguments the command takes: [min, max]. */
  positionals?: [number, number];
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: 'help', short: 'h', type: 'boolean', description: 'show this help' },
  { name: 'quiet', short: 'q', type: 'boolean', description: 'print results, warnings and errors only' },
];

/** Options of the commands that call Toolkit. */
export const API_OPTIONS: OptionSpec[] = [
  {
    name: 'api-url',
    type: 'string',
    value: 'URL',
    description: 'Toolkit API base URL (default: $EAI_CONSOLE_URL, else https://console.elementai.com)',
  },
];

/** Where the token comes from: an environment variable or a file, never a flag value. */
export const TOKEN_OPTIONS: OptionSpec[] = [
  {
    name: 'token-env',
    type: 'string',
    value: 'NAME',
    description: 'read the token from the environment variable NAME (default EAI_TOKEN)',
  },
  {
    name: 'token-file',
    type: 'string',
    value: 'PATH',
    description: 'read the token from the file PATH, or from stdin with -',
  },
];

export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedCommand {
  values: ParsedValues;
  positionals: string[];
}

const TOKEN_FLAG = /^--token(=|$)/;

/**
 * The values that would be a token if someone passed one on the command line (`--token X`, `--token=X`),
 * so they can be redacted from every message even though the command is refused.
 */
export function tokenFlagValues(argv: readonly string[]): string[] {
  const values: string[] = [];
  argv.forEach((arg, index) => {
    if (arg === '--') return;
    if (arg.startsWith('--token=')) values.push(arg.slice('--token='.length));
    else if (arg === '--token' && argv[index + 1] !== undefined) values.push(argv[index + 1] as string);
  });
  return values.filter((value) => value.trim() !== '');
}

/** Refuses `--token`/`--token=...` anywhere before `--`, saying how to pass the token instead. */
export function refuseTokenFlag(argv: readonly string[]): void {
  const end = argv.indexOf('--');
  const flags = end === -1 ? argv : argv.slice(0, end);
  if (flags.some((arg) => TOKEN_FLAG.test(arg))) {
    throw new ToolkitCiError(
      'usage',
      '--token is not accepted: a token on the command line is visible to every process on the machine and in shell traces',
      {
        hint:
          'Put the token in the environment variable EAI_TOKEN (or name another one with --token-env NAME), ' +
          'or pass it in a file or on stdin with --token-file PATH|- ; in CI, use the CI secret store for it',
      },
    );
  }
}

/** Parses `argv` against a command's options (plus the global ones); throws usage errors that name the flag. */
export function parseCommand(spec: CommandSpec, argv: readonly string[]): ParsedCommand {
  refuseTokenFlag(argv);
  const options = [...GLOBAL_OPTIONS, ...spec.options];
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const option of options) {
    config[option.name] = {
      type: option.type,
      ...(option.short ? { short: option.short } : {}),
      ...(option.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: { values: ParsedValues; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: true }) as {
      values: ParsedValues;
      positionals: string[];
    };
  } catch (error) {
    throw new ToolkitCiError('usage', `${cleanParseMessage(error)} (toolkit-ci ${spec.name})`, {
      hint: `See toolkit-ci ${spec.name} --help`,
    });
  }
  if (parsed.values.help) return parsed;
  const [min, max] = spec.positionals ?? [0, 0];
  if (parsed.positionals.length < min) {
    throw new ToolkitCiError('usage', `toolkit-ci ${spec.name} needs ${spec.usage.split(' [')[0]}`, {
      hint: `Usage: toolkit-ci ${spec.name} ${spec.usage}`,
    });
  }
  if (parsed.positionals.length > max) {
    const extra = parsed.positionals[max] as string;
    throw new ToolkitCiError('usage', `toolkit-ci ${spec.name}: unexpected argument ${quoteArg(extra)}`, {
      hint: `Usage: toolkit-ci ${spec.name} ${spec.usage}`,
    });
  }
  return parsed;
}

/** node's parseArgs messages, without their error-code prefix and with a friendlier wording. */
function cleanParseMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option ${unknown[1]}`;
  const missing = /Option '([^']+)' argument missing/.exec(message);
  if (missing) return `${missing[1].split(' ')[0]?.replace(/^-\w, /, '')} needs a value`;
  const notString = /Option '([^']+)' argument is ambiguous/.exec(message);
  if (notString)
    return `the value of ${notString[1].split(' ')[0]} starts with "-": write it as --flag=VALUE`;
  return message.split('\n')[0] ?? message;
}

/** Quotes a command-line value in a message, cut short (it may be long; secrets are redacted by the printer). */
export function quoteArg(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/** A string option's value, or undefined when absent. */
export function stringValue(values: ParsedValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A repeatable option's values ([] when absent). */
export function listValue(values: ParsedValues, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

const HELP_WIDTH = 100;

/** Splits `text` into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}

/** The --help text of a command, generated from its table. */
export function helpText(spec: CommandSpec): string {
  const options = [...spec.options, ...GLOBAL_OPTIONS];
  const labels = options.map((option) => {
    const short = option.short ? `-${option.short}, ` : '    ';
    const value = option.type === 'string' ? ` ${option.value ?? 'VALUE'}` : '';
    return `${short}--${option.name}${value}`;
  });
  const width = Math.min(34, Math.max(...labels.map((label) => label.length)) + 2);
  const rows = options.map((option, index) => {
    const label = labels[index] as string;
    const repeat = option.multiple ? ' (repeatable)' : '';
    const pad = label.length >= width ? `\n  ${' '.repeat(width)}` : ' '.repeat(width - label.length);
    return `  ${label}${pad}${wrap(`${option.description}${repeat}`, HELP_WIDTH - width - 2).join(`\n  ${' '.repeat(width)}`)}`;
  });
  const parts = [
    `Usage: toolkit-ci ${spec.name} ${spec.usage}`,
    '',
    ...wrap(spec.summary, HELP_WIDTH),
    '',
    'Options:',
    ...rows,
  ];
  if (spec.details) parts.push('', spec.details.trimEnd());
  return `${parts.join('\n')}\n`;
}

/** String options that may be given before the command (`toolkit-ci --api-url URL whoami`). */
const LEADING_STRING_OPTIONS = ['--api-url', '--token-env', '--token-file', '--docker-config'];

/**
 * Splits `argv` into the command words and the rest: `['job', 'submit', '--image', 'x']` with the command
 * names known gives `{command: ['job', 'submit'], rest: ['--image', 'x']}`. Global flags may come first.
 */
export function splitCommand(
  argv: readonly string[],
  isCommand: (words: string[]) => 'leaf' | 'group' | undefined,
): { command: string[]; rest: string[] } {
  const leading: string[] = [];
  let index = 0;
  // Options may come before the command; a string option takes the next word as its value.
  while (index < argv.length && /^-/.test(argv[index] as string)) {
    const flag = argv[index++] as string;
    leading.push(flag);
    if (LEADING_STRING_OPTIONS.includes(flag) && index < argv.length) leading.push(argv[index++] as string);
  }
  const command: string[] = [];
  while (index < argv.length) {
    const word = argv[index] as string;
    const kind = isCommand([...command, word]);
    if (kind === undefined) break;
    command.push(word);
    index++;
    if (kind === 'leaf') break;
  }
  return { command, rest: [...leading, ...argv.slice(index)] };
}
