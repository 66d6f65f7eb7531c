/**
 * Pure re-implementation of what the GitHub Actions runner (actions/runner) does with a step's output:
 * workflow commands (`::name props::data` and the legacy `##[name props]data`), secret masking, groups,
 * annotations, and the file-command format of GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE.
 * Sources: Runner.Common/ActionCommand.cs, Runner.Worker/ActionCommandManager.cs, Handlers/OutputManager.cs,
 * FileCommandManager.cs, GitHub.DistributedTask.Logging SecretMasker/ValueEncoders.
 */

export type StreamName = 'stdout' | 'stderr';

/** One line a step printed, in the order the runner received it. */
export interface OutputLine {
  stream: StreamName;
  text: string;
}

export interface WorkflowCommand {
  /** Lower-cased command name (the runner matches names case-insensitively). */
  command: string;
  properties: Record<string, string>;
  data: string;
  format: 'v2' | 'legacy';
}

export type AnnotationLevel = 'error' | 'warning' | 'notice' | 'debug';

export interface Annotation {
  level: AnnotationLevel;
  /** Masked, as GitHub shows it. */
  message: string;
  properties: Record<string, string>;
  /** 'action' = the step printed a command; 'runner' = the runner itself complained. */
  source: 'action' | 'runner';
}

/** The commands the runner knows; any other `::x::` line is plain output. */
export const RUNNER_COMMANDS: readonly string[] = [
  'add-mask',
  'add-matcher',
  'add-path',
  'debug',
  'echo',
  'endgroup',
  'error',
  'group',
  'notice',
  'remove-matcher',
  'save-state',
  'set-env',
  'set-output',
  'stop-commands',
  'warning',
];

// Order matters: the runner applies String.Replace sequentially, '%25' last.
const DATA_ESCAPES: [string, string][] = [
  ['%0D', '\r'],
  ['%0A', '\n'],
  ['%25', '%'],
];
const PROPERTY_ESCAPES: [string, string][] = [
  ['%0D', '\r'],
  ['%0A', '\n'],
  ['%3A', ':'],
  ['%2C', ','],
  ['%25', '%'],
];
const LEGACY_ESCAPES: [string, string][] = [
  ['%3B', ';'],
  ['%0D', '\r'],
  ['%0A', '\n'],
  ['%5D', ']'],
  ['%25', '%'],
];

function unescapeWith(text: string, mappings: [string, string][]): string {
  let out = text;
  for (const [escaped, plain] of mappings) out = out.split(escaped).join(plain);
  return out;
}

/** Decodes command data the way the runner does (%0D, %0A, then %25). */
export function unescapeCommandData(text: string): string {
  return unescapeWith(text, DATA_ESCAPES);
}

/** Decodes a command property value (%0D %0A %3A %2C, then %25). */
export function unescapeCommandProperty(text: string): string {
  return unescapeWith(text, PROPERTY_ESCAPES);
}

// .NET `Split('=', 2, RemoveEmptyEntries)` then `pair.Length == 2`: both sides must be non-empty.
function splitPair(text: string): [string, string] | null {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) return null;
  return [text.slice(0, eq), text.slice(eq + 1)];
}

function isRegistered(name: string, registered: ReadonlySet<string>): boolean {
  return name.length > 0 && registered.has(name.toLowerCase());
}

function parseV2(line: string, registered: ReadonlySet<string>): WorkflowCommand | null {
  const message = line.trimStart();
  if (!message.startsWith('::')) return null;
  const end = message.indexOf('::', 2);
  if (end < 0) return null;
  const info = message.slice(2, end);
  const space = info.indexOf(' ');
  const name = space < 0 ? info : info.slice(0, space);
  if (!isRegistered(name, registered)) return null;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const item of info
      .slice(space + 1)
      .trim()
      .split(',')
      .filter((s) => s.length > 0)) {
      const pair = splitPair(item);
      if (pair) properties[pair[0]] = unescapeCommandProperty(pair[1]);
    }
  }
  return {
    command: name.toLowerCase(),
    properties,
    data: unescapeCommandData(message.slice(end + 2)),
    format: 'v2',
  };
}

function parseLegacy(line: string, registered: ReadonlySet<string>): WorkflowCommand | null {
  const prefix = line.indexOf('##[');
  if (prefix < 0) return null;
  const close = line.indexOf(']', prefix);
  if (close < 0) return null;
  const info = line.slice(prefix + 3, close);
  const space = info.indexOf(' ');
  const name = space < 0 ? info : info.slice(0, space);
  if (!isRegistered(name, registered)) return null;
  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const item of info
      .slice(space + 1)
      .split(';')
      .filter((s) => s.length > 0)) {
      const pair = splitPair(item);
      if (pair) properties[pair[0]] = unescapeWith(pair[1], LEGACY_ESCAPES);
    }
  }
  return {
    command: name.toLowerCase(),
    properties,
    data: unescapeWith(line.slice(close + 1), LEGACY_ESCAPES),
    format: 'legacy',
  };
}

/**
 * Parses one output line as a workflow command, or returns null when the runner would print it as-is.
 * Like the runner, only registered command names count, and `##[name]` may appear anywhere in the line.
 */
export function parseCommandLine(
  line: string,
  registered: ReadonlySet<string> = new Set(RUNNER_COMMANDS),
): WorkflowCommand | null {
  if (!line || (!line.includes('::') && !line.includes('##['))) return null;
  return parseV2(line, registered) ?? parseLegacy(line, registered);
}

function property(cmd: WorkflowCommand, name: string): string | undefined {
  const key = Object.keys(cmd.properties).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : cmd.properties[key];
}

// ---------------------------------------------------------------------------------------------------------
// Secret masking

/** The runner's optional value encoders: each registered value is also masked in these encoded forms. */
export function runnerValueEncodings(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const base64Shift = (shift: number) =>
    (bytes.length > shift ? bytes.subarray(shift) : bytes).toString('base64');
  const uri = encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  const xml = value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
  const trimmedQuotes =
    value.length > 8 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : '';
  return [
    base64Shift(0),
    base64Shift(1),
    base64Shift(2),
    value.replace(/'/g, "''"),
    JSON.stringify(value).slice(1, -1),
    uri,
    xml,
    trimmedQuotes,
  ].filter((v) => v.length > 0 && v !== value);
}

/**
 * The runner's secret masker: every occurrence of every registered value (overlaps included) is found,
 * overlapping or touching ranges are merged, and each merged range becomes '***'.
 */
export class SecretMasker {
  private readonly values = new Set<string>();

  constructor(private readonly options: { valueEncoders?: boolean } = {}) {}

  /** Registers a value (and, with valueEncoders, its encoded forms). Empty values are ignored. */
  add(value: string): void {
    if (!value) return;
    this.values.add(value);
    if (this.options.valueEncoders)
      for (const encoded of runnerValueEncodings(value)) this.values.add(encoded);
  }

  /** Every value currently masked, longest first. */
  list(): string[] {
    return [...this.values].sort((a, b) => b.length - a.length);
  }

  /** Replaces every registered value in text with '***'. */
  mask(text: string): string {
    if (!text || this.values.size === 0) return text;
    const ranges: [number, number][] = [];
    for (const value of this.values) {
      for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) {
        ranges.push([at, at + value.length]);
      }
    }
    if (ranges.length === 0) return text;
    ranges.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    const merged: [number, number][] = [];
    for (const range of ranges) {
      const last = merged[merged.length - 1];
      if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
      else merged.push([range[0], range[1]]);
    }
    let out = '';
    let cursor = 0;
    for (const [start, end] of merged) {
      out += `${text.slice(cursor, start)}***`;
      cursor = end;
    }
    return out + text.slice(cursor);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Interpreting a step's output

export interface InterpretOptions {
  /** Step debug (ACTIONS_STEP_DEBUG / RUNNER_DEBUG): debug lines and command echo are shown. */
  debug?: boolean;
  /** Shared across the steps of a job: masks registered in main still apply in post. */
  masker?: SecretMasker;
  /** ACTIONS_ALLOW_UNSECURE_COMMANDS=true re-enables ::set-env:: and ::add-path::. */
  allowUnsecureCommands?: boolean;
}

export interface InterpretedOutput {
  /** What GitHub shows, one entry per line. */
  lines: string[];
  log: string;
  /** Values registered with ::add-mask:: in this output (multi-line values also line by line). */
  masks: string[];
  annotations: Annotation[];
  /** Group titles, masked. */
  groups: string[];
  /** From the legacy ::set-output:: command. */
  outputs: Record<string, string>;
  /** From the legacy ::save-state:: command. */
  state: Record<string, string>;
  /** From ::set-env:: / ::add-path:: when unsecure commands are allowed. */
  env: Record<string, string>;
  path: string[];
  /** The runner marks the step failed when a command could not be processed. */
  commandFailed: boolean;
}

const DEPRECATION_URL =
  'https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/';
const UNSECURE_URL =
  'https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/';
const SHOWN_PREFIX: Record<Exclude<AnnotationLevel, 'debug'>, string> = {
  error: 'Error: ',
  warning: 'Warning: ',
  notice: 'Notice: ',
};
// Commands whose line the runner never echoes, even with echo on.
const OMIT_ECHO = new Set(['add-mask', 'debug', 'error', 'warning', 'notice']);

/** Feeds a step's output lines through the runner's command processing, collecting what GitHub shows. */
export class StepOutputInterpreter {
  readonly masker: SecretMasker;
  private readonly debug: boolean;
  private readonly allowUnsecure: boolean;
  private readonly registered = new Set(RUNNER_COMMANDS);
  private stopToken: string | null = null;
  private echo: boolean;
  private readonly out: InterpretedOutput = {
    lines: [],
    log: '',
    masks: [],
    annotations: [],
    groups: [],
    outputs: {},
    state: {},
    env: {},
    path: [],
    commandFailed: false,
  };

  constructor(options: InterpretOptions = {}) {
    this.masker = options.masker ?? new SecretMasker();
    this.debug = options.debug ?? false;
    this.allowUnsecure = options.allowUnsecureCommands ?? false;
    this.echo = this.debug;
  }

  /** Processes one line the step printed (stdout and stderr alike, as the runner does). */
  line(line: OutputLine): void {
    const command = parseCommandLine(line.text, this.registered);
    if (!command) {
      this.show(line.text);
      return;
    }
    if (this.stopToken !== null) {
      if (command.command === this.stopToken.toLowerCase()) {
        this.show(line.text);
        this.registered.delete(this.stopToken.toLowerCase());
        this.stopToken = null;
        this.runnerDebug('Resume processing commands');
      } else {
        this.show(line.text);
      }
      return;
    }
    if (command.command === 'stop-commands') {
      this.show(line.text);
      this.stopToken = command.data;
      if (command.data) this.registered.add(command.data.toLowerCase());
      return;
    }
    if (this.echo && !OMIT_ECHO.has(command.command)) this.show(line.text);
    try {
      this.process(command);
    } catch (error) {
      const shown = OMIT_ECHO.has(command.command) ? command.command : line.text;
      this.runnerIssue('error', `Unable to process command '${shown}' successfully.`);
      this.runnerIssue('error', (error as Error).message);
      this.out.commandFailed = true;
    }
  }

  /** An error/warning/notice the runner itself reports (shown and annotated like the step's own). */
  runnerIssue(level: Exclude<AnnotationLevel, 'debug'>, message: string): void {
    this.annotate(level, message, {}, 'runner');
  }

  /** A debug line from the runner itself (shown only in debug mode). */
  runnerDebug(message: string): void {
    if (this.debug) this.push(`##[debug]${this.masker.mask(message)}`);
  }

  /** Marks the step failed the way a failed file command or unprocessable command does. */
  markFailed(): void {
    this.out.commandFailed = true;
  }

  /** The result so far. */
  result(): InterpretedOutput {
    return { ...this.out, log: this.out.lines.map((l) => `${l}\n`).join('') };
  }

  private process(cmd: WorkflowCommand): void {
    switch (cmd.command) {
      case 'add-mask':
        this.addMask(cmd.data);
        return;
      case 'debug':
        this.annotate('debug', cmd.data, cmd.properties, 'action');
        return;
      case 'error':
      case 'warning':
      case 'notice':
        this.annotate(cmd.command, cmd.data, cmd.properties, 'action');
        return;
      case 'group':
        this.out.groups.push(this.masker.mask(cmd.data));
        this.push(`▶ ${this.masker.mask(cmd.data)}`);
        return;
      case 'endgroup':
        return;
      case 'set-output':
      case 'save-state': {
        const name = property(cmd, 'name');
        if (!name) throw new Error(`Required field 'name' is missing in ##[${cmd.command}] command.`);
        this.runnerIssue(
          'warning',
          `The \`${cmd.command}\` command is deprecated and will be disabled soon. Please upgrade to using Environment Files. For more information see: ${DEPRECATION_URL}`,
        );
        if (cmd.command === 'set-output') {
          this.out.outputs[name] = cmd.data;
          this.runnerDebug(`${name}='${cmd.data}'`);
        } else {
          this.out.state[name] = cmd.data;
          this.runnerDebug(`Save intra-action state ${name} = ${cmd.data}`);
        }
        return;
      }
      case 'set-env':
      case 'add-path': {
        if (!this.allowUnsecure) {
          throw new Error(
            `The \`${cmd.command}\` command is disabled. Please upgrade to using Environment Files or opt into unsecure command execution by setting the \`ACTIONS_ALLOW_UNSECURE_COMMANDS\` environment variable to \`true\`. For more information see: ${UNSECURE_URL}`,
          );
        }
        if (cmd.command === 'add-path') {
          if (!cmd.data) throw new Error("Parameter 'path' cannot be null or empty.");
          this.out.path.push(cmd.data);
          return;
        }
        const name = property(cmd, 'name');
        if (!name) throw new Error("Required field 'name' is missing in ##[set-env] command.");
        if (name.toUpperCase() === 'NODE_OPTIONS') {
          this.runnerIssue(
            'error',
            "Can't update NODE_OPTIONS environment variable using ::set-env:: command.",
          );
          return;
        }
        this.out.env[name] = cmd.data;
        this.runnerDebug(`${name}='${cmd.data}'`);
        return;
      }
      case 'echo': {
        const value = cmd.data.trim().toUpperCase();
        if (value !== 'ON' && value !== 'OFF') {
          throw new Error(
            `Invalid echo command value. Possible values can be: 'on', 'off'. Current value is: '${cmd.data}'.`,
          );
        }
        this.echo = value === 'ON';
        return;
      }
      default:
        // add-matcher / remove-matcher: problem matchers are not emulated; the line is consumed like the runner.
        return;
    }
  }

  private addMask(value: string): void {
    if (value.trim() === '') {
      this.runnerIssue('warning', "Can't add secret mask for empty string in ##[add-mask] command.");
      return;
    }
    // The runner reads output line by line, so it also masks each line of a multi-line value on its own.
    for (const item of [value, ...value.split(/[\r\n]+/).filter((s) => s.length > 0)]) {
      if (!this.out.masks.includes(item)) this.out.masks.push(item);
      this.masker.add(item);
    }
    if (this.echo) this.push('::add-mask::***');
  }

  private annotate(
    level: AnnotationLevel,
    message: string,
    properties: Record<string, string>,
    source: Annotation['source'],
  ): void {
    const masked = this.masker.mask(message);
    const maskedProps = Object.fromEntries(
      Object.entries(properties).map(([k, v]) => [k, this.masker.mask(v)]),
    );
    this.out.annotations.push({ level, message: masked, properties: maskedProps, source });
    if (level === 'debug') {
      if (this.debug) this.push(`##[debug]${masked}`);
    } else {
      this.push(`${SHOWN_PREFIX[level]}${masked}`);
    }
  }

  private show(text: string): void {
    this.push(this.masker.mask(text));
  }

  private push(shown: string): void {
    this.out.lines.push(shown);
  }
}

/** Splits raw process output into lines the way the runner's reader does (\r\n, \n or \r). */
export function splitOutputLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r\n|\r|\n/);
  if (/(\r\n|\r|\n)$/.test(text)) lines.pop();
  return lines;
}

/**
 * Interprets a step's stdout (or an ordered list of stdout/stderr lines) like the runner:
 * returns the shown log, masks, annotations, groups and legacy outputs/state.
 */
export function parseWorkflowCommands(output: string | OutputLine[], options: InterpretOptions = {}) {
  const interpreter = new StepOutputInterpreter(options);
  const lines: OutputLine[] =
    typeof output === 'string'
      ? splitOutputLines(output).map((text) => ({ stream: 'stdout' as const, text }))
      : output;
  for (const line of lines) interpreter.line(line);
  return interpreter.result();
}

// ---------------------------------------------------------------------------------------------------------
// File commands

/**
 * Parses GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE content: `name=value` lines and heredoc
 * `name<<DELIMITER` … `DELIMITER` blocks, split on '\n' only (Linux runner: '\r' stays in values).
 * Throws with the runner's message on a malformed line or a missing delimiter.
 */
export function parseCommandFile(text: string): Record<string, string> {
  return Object.fromEntries(parseCommandFileEntries(text));
}

/**
 * Like parseCommandFile, but keeps every entry in file order (a name may repeat; the last one wins).
 * onEntry sees each entry as it is read, so entries before a malformed line still apply, as in the runner.
 */
export function parseCommandFileEntries(
  text: string,
  onEntry?: (name: string, value: string) => void,
): [string, string][] {
  const entries: [string, string][] = [];
  const add = (name: string, value: string) => {
    entries.push([name, value]);
    onEntry?.(name, value);
  };
  let index = 0;
  const readLine = (): { line: string; newline: string } | null => {
    if (index >= text.length) return null;
    const lf = text.indexOf('\n', index);
    const start = index;
    if (lf < 0) {
      index = text.length;
      return { line: text.slice(start), newline: '' };
    }
    index = lf + 1;
    return { line: text.slice(start, lf), newline: '\n' };
  };
  for (let next = readLine(); next !== null; next = readLine()) {
    const { line } = next;
    if (line === '') continue;
    const eq = line.indexOf('=');
    const heredoc = line.indexOf('<<');
    if (eq >= 0 && (heredoc < 0 || eq < heredoc)) {
      const name = line.slice(0, eq);
      if (!name) throw new Error(`Invalid format '${line}'. Name must not be empty`);
      add(name, line.slice(eq + 1));
    } else if (heredoc >= 0 && (eq < 0 || heredoc < eq)) {
      const name = line.slice(0, heredoc);
      const delimiter = line.slice(heredoc + 2);
      if (!name || !delimiter) {
        throw new Error(`Invalid format '${line}'. Name must not be empty and delimiter must not be empty`);
      }
      const start = index;
      let end = index;
      let body = readLine();
      while (body === null || body.line !== delimiter) {
        if (body === null) throw new Error(`Invalid value. Matching delimiter not found '${delimiter}'`);
        end = index - body.newline.length;
        body = readLine();
      }
      add(name, end > start ? text.slice(start, end) : '');
    } else {
      throw new Error(`Invalid format '${line}'`);
    }
  }
  return entries;
}

/** Parses GITHUB_PATH content: one directory per non-empty line. */
export function parsePathFile(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}
