/**
 * JobSpecs from raw CI settings. Pure (`loadJobSpecFile`, which reads a file, lives in job-spec-file.ts): the GitHub action
 * and the CLI hand over the same raw strings (action inputs, CLI flags, Drone `PLUGIN_*` settings), and this
 * module turns them into a validated JobSpec, or a usage error that names the setting the way the caller's
 * user knows it (`input "gpu-mem"` in an action, `--gpu-mem` in the CLI).
 *
 * Stable API (the action and the CLI both import it):
 * - `buildJobSpec(fields, base?, options?)`: raw strings (+ a spec file's JobSpec) -> a validated JobSpec
 * - `loadJobSpecFile(path, options?)`: a YAML or JSON JobSpec file -> JobSpec (shape checked, image optional)
 * - `validateJobSpec(spec, options?)`: the shape of a whole JobSpec; throws a usage error, returns it typed
 * - `redactJobSpec(spec)`: a copy safe to print (every environment value -> '***', names kept)
 * - `jobSpecEnvValues(spec)`: the environment values, to register with a CI's masker before printing anything
 * - `fieldNames(style)`: the names map for `input "gpu-mem"` (style 'input') or `--gpu-mem` (style 'flag')
 * - `parseDurationSeconds(text)`, `formatDuration(seconds)`
 *
 * Merge rule (inputs override the spec file): a non-empty raw field replaces the base's field, except `env`
 * and `tags`, which are merged by name (an input wins over the file for the same name, other names are kept),
 * and the `resources` fields, which are replaced one by one. An empty raw string means "not set".
 */
import { ToolkitCiError } from './errors.js';
import type { JobResources, JobSpec } from './jobs.js';

/** The raw settings shared by the action and the CLI; every one optional, an empty string means "not set". */
export interface JobSpecFields {
  /** The image to run, e.g. registry.console.elementai.com/acme.ml/trainer:1.4.0 */
  image?: string;
  /** A shell script (run as ["/bin/sh","-c",script]) or a JSON array of strings taken as the argv. */
  command?: string;
  /** `NAME=VALUE` per line; empty lines and lines starting with '#' are skipped. */
  env?: string;
  /** One data mount per line: `<data>[@version][/sub]:/mount[:ro|rw]`. */
  data?: string;
  /** CPUs (a positive number). */
  cpu?: string;
  /** Memory in GB (a positive number). */
  mem?: string;
  /** GPUs (an integer >= 0). */
  gpu?: string;
  /** GPU memory in GB (a positive number). */
  gpuMem?: string;
  gpuModel?: string;
  /** ^[a-z0-9_]+$ */
  name?: string;
  /** `key=value` per line. */
  tags?: string;
  role?: string;
  /** true | false (also True/TRUE/False/FALSE, as GitHub's getBooleanInput). */
  restartable?: string;
  preemptable?: string;
  /** Seconds (`3600`) or a duration (`90m`, `2h`, `1h30m`, `2d`). */
  maxRunTime?: string;
  workdir?: string;
}

export type JobSpecField = keyof JobSpecFields;

/** How a caller names each field in messages: `{gpuMem: 'input "gpu-mem"'}` or `{gpuMem: '--gpu-mem'}`. */
export type JobSpecFieldNames = Partial<Record<JobSpecField, string>>;

export interface JobSpecMessageOptions {
  /** Names of the raw fields in messages; default `"gpu-mem"` (the kebab-case name in quotes). */
  names?: JobSpecFieldNames;
  /** What the base spec is called in messages, e.g. 'spec file "ci/job.yml"'; default 'the spec file'. */
  baseName?: string;
}

/** The kebab-case name of each field: the action input and the CLI flag (without `--`) are these. */
export const JOB_SPEC_FIELD_KEBAB: Readonly<Record<JobSpecField, string>> = Object.freeze({
  image: 'image',
  command: 'command',
  env: 'env',
  data: 'data',
  cpu: 'cpu',
  mem: 'mem',
  gpu: 'gpu',
  gpuMem: 'gpu-mem',
  gpuModel: 'gpu-model',
  name: 'name',
  tags: 'tags',
  role: 'role',
  restartable: 'restartable',
  preemptable: 'preemptable',
  maxRunTime: 'max-run-time',
  workdir: 'workdir',
});

/** The names map for an action (`input "gpu-mem"`) or a CLI (`--gpu-mem`). */
export function fieldNames(style: 'input' | 'flag'): Record<JobSpecField, string> {
  const entries = Object.entries(JOB_SPEC_FIELD_KEBAB).map(([field, kebab]) => [
    field,
    style === 'input' ? `input "${kebab}"` : `--${kebab}`,
  ]);
  return Object.fromEntries(entries) as Record<JobSpecField, string>;
}

/** The JobSpec fields a request may carry (as Toolkit's JobSpec; the emulator refuses any other). */
const SPEC_KEYS = [
  'image',
  'command',
  'environmentVars',
  'data',
  'workdir',
  'name',
  'role',
  'tags',
  'resources',
  'preemptable',
  'restartable',
  'interactive',
  'bid',
  'maxRunTime',
  'options',
] as const;

const RESOURCE_KEYS = [
  'cpu',
  'mem',
  'gpu',
  'gpuMem',
  'gpuModel',
  'cpuModel',
  'gpuTensorCores',
  'cudaVersion',
  'inference',
] as const;

/** Which raw field sets which JobSpec path: used to name the caller's setting in validation messages. */
const FIELD_OF_PATH: Readonly<Record<string, JobSpecField>> = {
  image: 'image',
  command: 'command',
  environmentVars: 'env',
  data: 'data',
  workdir: 'workdir',
  name: 'name',
  role: 'role',
  tags: 'tags',
  preemptable: 'preemptable',
  restartable: 'restartable',
  maxRunTime: 'maxRunTime',
  'resources.cpu': 'cpu',
  'resources.mem': 'mem',
  'resources.gpu': 'gpu',
  'resources.gpuMem': 'gpuMem',
  'resources.gpuModel': 'gpuModel',
};

export const JOB_NAME_PATTERN = /^[a-z0-9_]+$/;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** `<data>[@version][/sub]:/mount[:ro|rw]`: a data reference, a colon, an absolute mount path. */
const DATA_PATTERN = /^[^\s:]+:\/[^\s:]*(:(ro|rw))?$/;
const SHELL = ['/bin/sh', '-c'] as const;

/**
 * Builds the JobSpec from raw fields over an optional base (a spec file), then validates the result.
 * Throws ToolkitCiError('usage') naming the offending field as `options.names` says; values that may be
 * secret (env values, commands) are never quoted.
 */
export function buildJobSpec(
  fields: JobSpecFields,
  base?: JobSpec,
  options: JobSpecMessageOptions = {},
): JobSpec {
  const name = (field: JobSpecField) => nameOf(field, options);
  const spec: JobSpec = base ? structuredClone(base) : ({} as JobSpec);
  const raw = (field: JobSpecField): string | undefined => {
    const value = fields[field];
    return value === undefined || value.trim() === '' ? undefined : value;
  };

  const image = raw('image');
  if (image !== undefined) spec.image = oneLine(image, name('image'));
  const command = raw('command');
  if (command !== undefined) spec.command = parseCommand(command, name('command'));
  const env = raw('env');
  if (env !== undefined) spec.environmentVars = mergeEnv(spec.environmentVars, parseEnv(env, name('env')));
  const data = raw('data');
  if (data !== undefined) spec.data = parseData(data, name('data'));
  const workdir = raw('workdir');
  if (workdir !== undefined) spec.workdir = oneLine(workdir, name('workdir'));
  const jobName = raw('name');
  if (jobName !== undefined) spec.name = parseJobName(jobName, name('name'));
  const role = raw('role');
  if (role !== undefined) spec.role = oneLine(role, name('role'));
  const tags = raw('tags');
  if (tags !== undefined) spec.tags = mergeTags(spec.tags, parseTags(tags, name('tags')));
  const restartable = raw('restartable');
  if (restartable !== undefined) spec.restartable = parseBoolean(restartable, name('restartable'));
  const preemptable = raw('preemptable');
  if (preemptable !== undefined) spec.preemptable = parseBoolean(preemptable, name('preemptable'));
  const maxRunTime = raw('maxRunTime');
  if (maxRunTime !== undefined) spec.maxRunTime = parseDurationOf(maxRunTime, name('maxRunTime'));

  const resources: JobResources = { ...(spec.resources ?? {}) };
  const cpu = raw('cpu');
  if (cpu !== undefined) resources.cpu = parsePositive(cpu, name('cpu'));
  const mem = raw('mem');
  if (mem !== undefined) resources.mem = parsePositive(mem, name('mem'));
  const gpu = raw('gpu');
  if (gpu !== undefined) resources.gpu = parseCount(gpu, name('gpu'));
  const gpuMem = raw('gpuMem');
  if (gpuMem !== undefined) resources.gpuMem = parsePositive(gpuMem, name('gpuMem'));
  const gpuModel = raw('gpuModel');
  if (gpuModel !== undefined) resources.gpuModel = oneLine(gpuModel, name('gpuModel'));
  if (Object.keys(resources).length > 0) spec.resources = resources;

  return validateJobSpec(spec, { ...options, names: options.names ?? {} });
}

/**
 * Checks the shape of a whole JobSpec (types, unknown fields, `image` required unless `requireImage` is
 * false, name pattern, positive numbers) and answers it typed. Throws ToolkitCiError('usage'); a message
 * names the JobSpec path and, where a raw field sets it, the caller's name for that field.
 */
export function validateJobSpec(
  spec: unknown,
  options: JobSpecMessageOptions & { requireImage?: boolean } = {},
): JobSpec {
  const fail = (path: string, problem: string): never => {
    const field = FIELD_OF_PATH[path];
    // Raw fields are checked as they are parsed, so a value failing here most likely came from the base.
    const setBy =
      field && options.names
        ? ` (set by ${options.baseName ?? 'the spec file'} or ${nameOf(field, options)})`
        : '';
    throw new ToolkitCiError('usage', `jobspec.${path}${setBy} ${problem}`);
  };
  if (!isObject(spec)) {
    throw new ToolkitCiError('usage', 'a JobSpec must be an object (a mapping of field names to values)');
  }
  for (const key of Object.keys(spec)) {
    if (!(SPEC_KEYS as readonly string[]).includes(key)) {
      throw new ToolkitCiError('usage', `jobspec has an unknown field "${key}"`, {
        hint: `Known fields: ${SPEC_KEYS.join(', ')} (environment variables go in environmentVars)`,
      });
    }
  }
  const { image, command, environmentVars, data, name, tags, resources, maxRunTime, bid } = spec;
  if (image !== undefined && (typeof image !== 'string' || image.trim() === '')) {
    fail('image', 'must be a non-empty string');
  }
  if (image === undefined && options.requireImage !== false) {
    throw new ToolkitCiError('usage', 'the JobSpec has no image', {
      hint: `Set ${nameOf('image', options)} or "image" in ${options.baseName ?? 'the spec file'}`,
    });
  }
  if (command !== undefined && !isStringArray(command)) fail('command', 'must be an array of strings');
  if (Array.isArray(command) && command.length === 0) fail('command', 'must not be empty');
  if (environmentVars !== undefined) {
    if (!isStringArray(environmentVars)) fail('environmentVars', 'must be an array of "NAME=VALUE" strings');
    const bad = (environmentVars as string[]).findIndex((item) => !ENV_NAME_PATTERN.test(envName(item)));
    // The index only: the value may be a secret.
    if (bad >= 0) fail('environmentVars', `item ${bad + 1} must look like NAME=VALUE`);
  }
  if (data !== undefined) {
    if (!isStringArray(data)) fail('data', 'must be an array of strings');
    const bad = (data as string[]).findIndex((item) => !DATA_PATTERN.test(item));
    if (bad >= 0) fail('data', `item ${bad + 1} must look like <data>[@version][/sub]:/mount[:ro|rw]`);
  }
  for (const key of ['workdir', 'role'] as const) {
    if (spec[key] !== undefined && typeof spec[key] !== 'string') fail(key, 'must be a string');
  }
  if (name !== undefined && (typeof name !== 'string' || !JOB_NAME_PATTERN.test(name))) {
    fail('name', 'must match ^[a-z0-9_]+$ (lower-case letters, digits and underscores)');
  }
  if (tags !== undefined) {
    const ok =
      Array.isArray(tags) &&
      tags.every(
        (t) => isObject(t) && typeof t.key === 'string' && t.key !== '' && typeof t.value === 'string',
      );
    if (!ok) fail('tags', 'must be a list of {key, value} strings');
  }
  for (const key of ['preemptable', 'restartable', 'interactive'] as const) {
    if (spec[key] !== undefined && typeof spec[key] !== 'boolean') fail(key, 'must be true or false');
  }
  if (maxRunTime !== undefined && !(Number.isInteger(maxRunTime) && (maxRunTime as number) > 0)) {
    fail('maxRunTime', 'must be a whole number of seconds > 0');
  }
  if (bid !== undefined && !(Number.isInteger(bid) && (bid as number) >= 0)) {
    fail('bid', 'must be an integer >= 0');
  }
  if (spec.options !== undefined && !isObject(spec.options)) fail('options', 'must be a mapping');
  if (resources !== undefined) validateResources(resources, fail);
  return spec as unknown as JobSpec;
}

function validateResources(resources: unknown, fail: (path: string, problem: string) => never): void {
  if (!isObject(resources)) fail('resources', 'must be a mapping');
  const r = resources as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!(RESOURCE_KEYS as readonly string[]).includes(key)) {
      fail('resources', `has an unknown field "${key}" (known: ${RESOURCE_KEYS.join(', ')})`);
    }
  }
  for (const key of ['cpu', 'mem', 'gpuMem'] as const) {
    if (r[key] !== undefined && !isPositiveNumber(r[key])) fail(`resources.${key}`, 'must be a number > 0');
  }
  if (r.gpu !== undefined && !(Number.isInteger(r.gpu) && (r.gpu as number) >= 0)) {
    fail('resources.gpu', 'must be an integer >= 0');
  }
  for (const key of ['gpuModel', 'cpuModel'] as const) {
    if (r[key] !== undefined && typeof r[key] !== 'string') fail(`resources.${key}`, 'must be a string');
  }
  for (const key of ['gpuTensorCores', 'inference'] as const) {
    if (r[key] !== undefined && typeof r[key] !== 'boolean')
      fail(`resources.${key}`, 'must be true or false');
  }
  if (r.cudaVersion !== undefined && typeof r.cudaVersion !== 'string' && typeof r.cudaVersion !== 'number') {
    fail('resources.cudaVersion', 'must be a string or a number');
  }
}

/** A copy of `spec` safe to print: each environment value becomes '***' (the names stay, to be useful). */
export function redactJobSpec(spec: JobSpec): JobSpec {
  const copy = structuredClone(spec);
  if (Array.isArray(copy.environmentVars)) {
    copy.environmentVars = copy.environmentVars.map((item) => {
      const eq = item.indexOf('=');
      return eq < 0 ? '***' : `${item.slice(0, eq)}=***`;
    });
  }
  return copy;
}

/** The non-empty environment values of `spec`: register each with the CI's masker before printing anything. */
export function jobSpecEnvValues(spec: JobSpec): string[] {
  const values = (spec.environmentVars ?? []).map((item) => {
    const eq = item.indexOf('=');
    return eq < 0 ? item : item.slice(eq + 1);
  });
  return [...new Set(values.filter((value) => value.trim() !== ''))];
}

/** `3600` (seconds) or a duration such as `90m`, `2h`, `1h30m`, `2d`, `45s`: whole seconds; undefined if invalid. */
export function parseDurationSeconds(text: string): number | undefined {
  const value = text.trim().toLowerCase();
  if (/^\d+$/.test(value)) return Number(value);
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  if (!match || value === '') return undefined;
  const [, d = '0', h = '0', m = '0', s = '0'] = match;
  return Number(d) * 86400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/** Seconds as `1h 2m 3s`, `4m 0s`, `12s`, `2d 3h 0m 0s`; fractions are rounded; negative or NaN -> `0s`. */
export function formatDuration(seconds: number): string {
  let rest = Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds) : 0;
  const days = Math.floor(rest / 86400);
  rest -= days * 86400;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const secs = rest - minutes * 60;
  const parts: string[] = [];
  if (days) parts.push(`${days}d`);
  if (days || hours) parts.push(`${hours}h`);
  if (days || hours || minutes) parts.push(`${minutes}m`);
  parts.push(`${secs}s`);
  return parts.join(' ');
}

function nameOf(field: JobSpecField, options: JobSpecMessageOptions): string {
  return options.names?.[field] ?? `"${JOB_SPEC_FIELD_KEBAB[field]}"`;
}

/** Short, non-secret values are worth quoting in a message; long ones are cut. */
function quote(value: string): string {
  const text = value.trim();
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function oneLine(value: string, name: string): string {
  const text = value.trim();
  if (/[\r\n]/.test(text)) throw new ToolkitCiError('usage', `${name} must be a single line`);
  return text;
}

function parseCommand(value: string, name: string): string[] {
  const text = value.trim();
  if (!text.startsWith('[')) return [...SHELL, text];
  let argv: unknown;
  try {
    argv = JSON.parse(text);
  } catch {
    // Never quote the command: it may carry a secret inline.
    throw new ToolkitCiError('usage', `${name} starts with "[" but is not a valid JSON array`, {
      hint: 'Give a JSON array of strings (the argv), or a shell script that does not start with "["',
    });
  }
  if (!isStringArray(argv) || argv.length === 0) {
    throw new ToolkitCiError(
      'usage',
      `${name} must be a non-empty JSON array of strings when it starts with "["`,
    );
  }
  return argv;
}

/** Non-empty lines that are not comments, with their 1-based line numbers. */
function lines(value: string): { text: string; line: number }[] {
  return value
    .split(/\r?\n/)
    .map((text, index) => ({ text: text.trim(), line: index + 1 }))
    .filter(({ text }) => text !== '' && !text.startsWith('#'));
}

function parseEnv(value: string, name: string): string[] {
  return lines(value).map(({ text, line }) => {
    const eq = text.indexOf('=');
    const key = eq < 0 ? '' : text.slice(0, eq).trim();
    // The line number only: the value may be a secret.
    if (!ENV_NAME_PATTERN.test(key)) {
      throw new ToolkitCiError('usage', `${name} line ${line} must look like NAME=VALUE`, {
        hint: 'NAME is letters, digits and underscores, not starting with a digit',
      });
    }
    return `${key}=${text.slice(eq + 1)}`;
  });
}

function envName(item: string): string {
  const eq = item.indexOf('=');
  return eq < 0 ? '' : item.slice(0, eq);
}

/** The base's variables, each replaced by the input's of the same name; the input's new names appended. */
function mergeEnv(base: string[] | undefined, overrides: string[]): string[] {
  const byName = new Map<string, string>();
  for (const item of [...(base ?? []), ...overrides]) byName.set(envName(item), item);
  return [...byName.values()];
}

function parseData(value: string, name: string): string[] {
  return lines(value).map(({ text, line }) => {
    if (!DATA_PATTERN.test(text)) {
      throw new ToolkitCiError(
        'usage',
        `${name} line ${line} must look like <data>[@version][/sub]:/mount[:ro|rw]`,
      );
    }
    return text;
  });
}

function parseTags(value: string, name: string): { key: string; value: string }[] {
  return lines(value).map(({ text, line }) => {
    const eq = text.indexOf('=');
    const key = eq < 0 ? '' : text.slice(0, eq).trim();
    if (key === '') throw new ToolkitCiError('usage', `${name} line ${line} must look like key=value`);
    return { key, value: text.slice(eq + 1).trim() };
  });
}

function mergeTags(
  base: { key: string; value: string }[] | undefined,
  overrides: { key: string; value: string }[],
): { key: string; value: string }[] {
  const byKey = new Map<string, { key: string; value: string }>();
  for (const tag of [...(base ?? []), ...overrides]) byKey.set(tag.key, tag);
  return [...byKey.values()];
}

function parseJobName(value: string, name: string): string {
  const text = value.trim();
  if (!JOB_NAME_PATTERN.test(text)) {
    throw new ToolkitCiError('usage', `${name} must match ^[a-z0-9_]+$, not ${quote(text)}`, {
      hint: 'Use lower-case letters, digits and underscores only',
    });
  }
  return text;
}

function parseBoolean(value: string, name: string): boolean {
  const text = value.trim();
  if (['true', 'True', 'TRUE'].includes(text)) return true;
  if (['false', 'False', 'FALSE'].includes(text)) return false;
  throw new ToolkitCiError('usage', `${name} must be true or false, not ${quote(text)}`);
}

function parsePositive(value: string, name: string): number {
  const text = value.trim();
  const number = /^\d+(\.\d+)?$|^\.\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(number > 0)) throw new ToolkitCiError('usage', `${name} must be a number > 0, not ${quote(text)}`);
  return number;
}

function parseCount(value: string, name: string): number {
  const text = value.trim();
  if (!/^\d+$/.test(text))
    throw new ToolkitCiError('usage', `${name} must be a whole number >= 0, not ${quote(text)}`);
  return Number(text);
}

function parseDurationOf(value: string, name: string): number {
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined || seconds <= 0) {
    throw new ToolkitCiError(
      'usage',
      `${name} must be seconds or a duration such as 90m, 2h, 1h30m, not ${quote(value)}`,
    );
  }
  return seconds;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isPositiveNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}
