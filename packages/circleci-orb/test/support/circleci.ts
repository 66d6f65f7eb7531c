/**
 * Runs the orb's commands and jobs the way CircleCI runs them, as far as this machine can: parameters
 * resolved (defaults, required, enum and type checks) and substituted into the steps, orb-local command
 * invocations and when/unless blocks expanded, then each `run` step executed with `/bin/bash -eo pipefail
 * -c COMMAND` (CircleCI's default shell on Linux), its `environment:` added to the job's environment, and
 * BASH_ENV pointing at one file for the whole job (bash sources it at the start of every step, as
 * CircleCI arranges). Steps run `on_success` by default; after a failure only `on_fail` and `always` steps
 * run. Built-in steps (checkout, setup_remote_docker) are recorded, not emulated.
 */
import { spawn } from 'node:child_process';
import type { Yaml } from './pack.js';

export type ParamValue = string | number | boolean;

export interface RunStep {
  type: 'run';
  name: string;
  command: string;
  /** `environment:` after substitution, every value a string (as CircleCI exports it). */
  environment: Record<string, string>;
  when: 'on_success' | 'on_fail' | 'always';
}

export interface BuiltinStep {
  type: 'builtin';
  name: string;
  /** Its arguments, e.g. {docker_layer_caching: true} ({} for the bare string form). */
  args: Yaml;
}

export type PlanStep = RunStep | BuiltinStep;

export interface StepResult {
  name: string;
  /** null for a step that did not run (skipped by `when`, or a built-in). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** The step's full environment (for leak checks of what the orb passes). */
  env: Record<string, string>;
}

export interface JobResult {
  steps: StepResult[];
  /** True when a step that ran exited non-zero (the CircleCI job would be red). */
  failed: boolean;
  /** Every step's stdout then stderr, in order: what the CircleCI UI shows. */
  output: string;
}

const BUILTINS = new Set(['checkout', 'setup_remote_docker', 'add_ssh_keys', 'attach_workspace']);
const PARAMETER = /<<\s*parameters\.([A-Za-z0-9_-]+)\s*>>/g;
const WHOLE_PARAMETER = /^\s*<<\s*parameters\.([A-Za-z0-9_-]+)\s*>>\s*$/;
const ENV_VAR_NAME = /^[a-zA-Z][\w]*$/;

function asMap(value: unknown, what: string): Yaml {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${what} is not a map`);
  return value as Yaml;
}

/**
 * The values of a component's parameters: the given arguments over the defaults, checked like CircleCI
 * checks them (unknown or missing arguments, enum members, booleans, integers, env_var_name).
 */
export function resolveParameters(
  declared: Yaml | undefined,
  args: Record<string, ParamValue>,
  where: string,
): Record<string, ParamValue> {
  const params = declared ?? {};
  for (const key of Object.keys(args)) {
    if (!Object.hasOwn(params, key)) throw new Error(`${where}: unknown parameter ${key}`);
  }
  const values: Record<string, ParamValue> = {};
  for (const [key, raw] of Object.entries(params)) {
    const spec = asMap(raw, `${where}.parameters.${key}`);
    const value = Object.hasOwn(args, key) ? args[key] : (spec.default as ParamValue | undefined);
    if (value === undefined) throw new Error(`${where}: missing required parameter ${key}`);
    switch (spec.type) {
      case 'boolean':
        if (typeof value !== 'boolean') throw new Error(`${where}: ${key} must be a boolean`);
        break;
      case 'integer':
        if (!Number.isInteger(value)) throw new Error(`${where}: ${key} must be an integer`);
        break;
      case 'enum':
        if (!(spec.enum as unknown[]).includes(value))
          throw new Error(`${where}: ${key} must be one of its enum`);
        break;
      case 'env_var_name':
        if (typeof value !== 'string' || !ENV_VAR_NAME.test(value)) {
          throw new Error(`${where}: ${key} must be an environment variable name`);
        }
        break;
      case 'string':
      case 'executor':
        if (typeof value !== 'string') throw new Error(`${where}: ${key} must be a string`);
        break;
      default:
        throw new Error(`${where}: parameter type ${String(spec.type)} is not emulated`);
    }
    values[key] = value;
  }
  return values;
}

/** Substitutes `<< parameters.x >>` everywhere in value; a whole-value reference keeps the value's type. */
export function substitute<T>(value: T, params: Record<string, ParamValue>, where: string): T {
  const lookup = (name: string): ParamValue => {
    if (!Object.hasOwn(params, name)) throw new Error(`${where}: << parameters.${name} >> is not declared`);
    return params[name] as ParamValue;
  };
  if (typeof value === 'string') {
    const whole = WHOLE_PARAMETER.exec(value);
    if (whole) return lookup(whole[1] as string) as T;
    return value.replace(PARAMETER, (_, name: string) => String(lookup(name))) as T;
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, params, where)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substitute(item, params, where)]),
    ) as T;
  }
  return value;
}

/** CircleCI's truthiness of a when/unless condition literal. */
function truthy(condition: unknown): boolean {
  return !(
    condition === false ||
    condition === null ||
    condition === 0 ||
    condition === '' ||
    condition === undefined
  );
}

function runStep(raw: unknown, where: string): RunStep {
  if (typeof raw === 'string')
    return {
      type: 'run',
      name: raw.split('\n')[0] ?? raw,
      command: raw,
      environment: {},
      when: 'on_success',
    };
  const run = asMap(raw, where);
  const environment = Object.fromEntries(
    Object.entries((run.environment ?? {}) as Yaml).map(([key, value]) => [
      key,
      value === null ? '' : String(value),
    ]),
  );
  return {
    type: 'run',
    name: String(run.name ?? run.command),
    command: String(run.command),
    environment,
    when: (run.when as RunStep['when'] | undefined) ?? 'on_success',
  };
}

/** Expands already-substituted steps: local commands, when/unless, run and built-in steps. */
function expandSteps(orb: Yaml, steps: unknown[], where: string, depth: number): PlanStep[] {
  if (depth > 10) throw new Error(`${where}: commands nest too deep`);
  const commands = (orb.commands ?? {}) as Yaml;
  const plan: PlanStep[] = [];
  steps.forEach((step, index) => {
    const at = `${where}.steps[${index}]`;
    const [key, body] =
      typeof step === 'string' ? [step, {}] : (Object.entries(asMap(step, at))[0] as [string, unknown]);
    if (key === 'run') plan.push(runStep(body, at));
    else if (key === 'when' || key === 'unless') {
      const block = asMap(body, at);
      if (truthy(block.condition) === (key === 'when')) {
        plan.push(...expandSteps(orb, block.steps as unknown[], at, depth + 1));
      }
    } else if (BUILTINS.has(key)) plan.push({ type: 'builtin', name: key, args: asMap(body ?? {}, at) });
    else if (Object.hasOwn(commands, key)) {
      plan.push(...expandCommandWith(orb, key, (body ?? {}) as Record<string, ParamValue>, depth + 1));
    } else throw new Error(`${at}: unknown step ${key}`);
  });
  return plan;
}

function expandCommandWith(
  orb: Yaml,
  name: string,
  args: Record<string, ParamValue>,
  depth: number,
): PlanStep[] {
  const where = `commands.${name}`;
  const command = asMap(((orb.commands ?? {}) as Yaml)[name], where);
  const params = resolveParameters(command.parameters as Yaml | undefined, args, where);
  return expandSteps(orb, substitute(command.steps as unknown[], params, where), where, depth);
}

/** The steps CircleCI would run for `- NAME: args` of one of the orb's commands. */
export function expandCommand(orb: Yaml, name: string, args: Record<string, ParamValue> = {}): PlanStep[] {
  return expandCommandWith(orb, name, args, 0);
}

/** The steps CircleCI would run for one of the orb's jobs with these arguments (the executor aside). */
export function expandJob(orb: Yaml, name: string, args: Record<string, ParamValue> = {}): PlanStep[] {
  const where = `jobs.${name}`;
  const job = asMap(((orb.jobs ?? {}) as Yaml)[name], where);
  const params = resolveParameters(job.parameters as Yaml | undefined, args, where);
  return expandSteps(orb, substitute(job.steps as unknown[], params, where), where, 0);
}

export interface RunOptions {
  /** The job's environment: PATH, HOME, BASH_ENV, the token's variable, CIRCLECI... */
  env: Record<string, string>;
  cwd: string;
  /** A step still running after this is killed (a hung test must not hang the suite). Default 30 s. */
  stepTimeoutMs?: number;
  /** Called with each step's bash pid as soon as it exists (the leak suite samples its processes). */
  onSpawn?: (pid: number) => void;
}

function runBash(command: string, env: Record<string, string>, options: RunOptions) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolvePromise, reject) => {
    const child = spawn('/bin/bash', ['-eo', 'pipefail', '-c', command], {
      env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.stepTimeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** Runs a plan like one CircleCI job: step after step, honouring each run step's `when`. */
export async function runPlan(plan: PlanStep[], options: RunOptions): Promise<JobResult> {
  const results: StepResult[] = [];
  let failed = false;
  for (const step of plan) {
    if (step.type === 'builtin') {
      results.push({ name: step.name, code: null, stdout: '', stderr: '', env: {} });
      continue;
    }
    const runs = step.when === 'always' || (step.when === 'on_fail' ? failed : !failed);
    const env = { ...options.env, ...step.environment };
    if (!runs) {
      results.push({ name: step.name, code: null, stdout: '', stderr: '', env });
      continue;
    }
    const outcome = await runBash(step.command, env, options);
    if (outcome.code !== 0) failed = true;
    results.push({ name: step.name, ...outcome, env });
  }
  return { steps: results, failed, output: results.map((r) => r.stdout + r.stderr).join('') };
}
