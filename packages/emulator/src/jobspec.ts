// Validation of a submitted JobSpec: the emulator is strict on purpose, so that a client that builds a
// wrong body (a typo'd field, a number as a string) finds out in its tests, with a message naming the field.
import type { JobSpec } from './types.js';

export type SpecCheck = { ok: true; spec: JobSpec } | { ok: false; message: string };

/** 48 h: Toolkit's default maxRunTime for a non-preemptable job. */
export const DEFAULT_MAX_RUN_TIME = 48 * 3600;

type Rule = (value: unknown) => string | undefined;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const string: Rule = (v) => (typeof v === 'string' ? undefined : 'must be a string');
const boolean: Rule = (v) => (typeof v === 'boolean' ? undefined : 'must be a boolean');
const number: Rule = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'must be a number >= 0';
const integer: Rule = (v) =>
  Number.isInteger(v) && (v as number) >= 0 ? undefined : 'must be an integer >= 0';
const stringOrNumber: Rule = (v) =>
  typeof v === 'string' || typeof v === 'number' ? undefined : 'must be a string or a number';
const stringArray: Rule = (v) =>
  Array.isArray(v) && v.every((item) => typeof item === 'string') ? undefined : 'must be an array of strings';
const object: Rule = (v) => (isObject(v) ? undefined : 'must be an object');

const environmentVars: Rule = (v) => {
  const shape = stringArray(v);
  if (shape) return shape;
  const bad = (v as string[]).findIndex((item) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(item));
  // Index only: the value may be a secret.
  return bad < 0 ? undefined : `item ${bad} must look like NAME=VALUE`;
};

const name: Rule = (v) =>
  typeof v === 'string' && /^[a-z0-9_]+$/.test(v) ? undefined : 'must match ^[a-z0-9_]+$';

const tags: Rule = (v) => {
  if (!Array.isArray(v)) return 'must be an array of {key, value}';
  const bad = v.findIndex((t) => !isObject(t) || typeof t.key !== 'string' || typeof t.value !== 'string');
  return bad < 0 ? undefined : `item ${bad} must be {key: string, value: string}`;
};

const maxRunTime: Rule = (v) =>
  Number.isInteger(v) && (v as number) > 0 ? undefined : 'must be an integer > 0';

const RESOURCE_RULES: Record<string, Rule> = {
  cpu: number,
  mem: number,
  gpu: integer,
  gpuMem: number,
  gpuModel: string,
  cpuModel: string,
  gpuTensorCores: boolean,
  cudaVersion: stringOrNumber,
  inference: boolean,
};

const resources: Rule = (v) => {
  if (!isObject(v)) return 'must be an object';
  for (const [key, value] of Object.entries(v)) {
    const rule = RESOURCE_RULES[key];
    if (!rule) return `has an unknown field '${key}' (known: ${Object.keys(RESOURCE_RULES).join(', ')})`;
    const problem = rule(value);
    if (problem) return `.${key} ${problem}`;
  }
  return undefined;
};

const SPEC_RULES: Record<string, Rule> = {
  image: string,
  command: stringArray,
  environmentVars,
  data: stringArray,
  workdir: string,
  name,
  role: string,
  tags,
  resources,
  preemptable: boolean,
  restartable: boolean,
  interactive: boolean,
  bid: integer,
  maxRunTime,
  options: object,
};

/** Checks a request body against the JobSpec shape; unknown fields are refused (see README). */
export function validateJobSpec(body: unknown): SpecCheck {
  if (!isObject(body)) return { ok: false, message: 'the request body must be a JSON object (a JobSpec)' };
  for (const [key, value] of Object.entries(body)) {
    const rule = SPEC_RULES[key];
    if (!rule) return { ok: false, message: `jobspec has an unknown field '${key}'` };
    const problem = rule(value);
    if (problem)
      return { ok: false, message: `jobspec.${key}${problem.startsWith('.') ? '' : ' '}${problem}` };
  }
  if (typeof body.image !== 'string' || body.image.trim() === '') {
    return { ok: false, message: 'jobspec.image is required (a non-empty string)' };
  }
  const spec = structuredClone(body) as unknown as JobSpec;
  if (spec.maxRunTime === undefined && spec.preemptable !== true) spec.maxRunTime = DEFAULT_MAX_RUN_TIME;
  return { ok: true, spec };
}
