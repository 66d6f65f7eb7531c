/**
 * Checks a CircleCI config that uses the orb (an example's `usage`, a README block) against the orb
 * itself: every `alias/component` exists, and every argument given to an orb job or command is one of
 * its parameters (or a key CircleCI reserves in a workflow's job entry).
 */
import type { Yaml } from './pack.js';

/** Keys of a workflow's job entry that CircleCI takes for itself (an orb job cannot have such parameters). */
export const WORKFLOW_JOB_KEYS = [
  'name',
  'context',
  'requires',
  'filters',
  'matrix',
  'type',
  'pre-steps',
  'post-steps',
  'serial-group',
];

/** Problems found (none = []); `orbRef` prefix is what the config's `orbs:` must map an alias to. */
export function usageProblems(usage: Yaml, orb: Yaml, orbRef = 'toolkit-ci/toolkit-ci@'): string[] {
  const alias = Object.entries((usage.orbs ?? {}) as Yaml).find(([, ref]) =>
    String(ref).startsWith(orbRef),
  )?.[0];
  if (!alias) return [`no orb alias maps to ${orbRef}...`];
  const problems: string[] = [];
  const component = (kind: string, name: string) => ((orb[kind] ?? {}) as Yaml)[name] as Yaml | undefined;
  const checkArgs = (where: string, params: Yaml | undefined, args: unknown, reserved: string[]) => {
    if (typeof args !== 'object' || args === null) return;
    for (const arg of Object.keys(args)) {
      if (!reserved.includes(arg) && !Object.hasOwn(params ?? {}, arg))
        problems.push(`${where}: unknown parameter ${arg}`);
    }
  };
  let uses = 0;
  const visitSteps = (where: string, steps: unknown) => {
    if (!Array.isArray(steps)) return;
    for (const step of steps) {
      const [key, args] =
        typeof step === 'string' ? [step, {}] : (Object.entries(step as Yaml)[0] ?? ['', {}]);
      if (!key.startsWith(`${alias}/`)) continue;
      uses++;
      const command = component('commands', key.slice(alias.length + 1));
      if (!command) problems.push(`${where}: ${key} is not a command of the orb`);
      else checkArgs(`${where}: ${key}`, command.parameters as Yaml, args, []);
    }
  };
  for (const [name, job] of Object.entries((usage.jobs ?? {}) as Yaml)) {
    const executor = (job as Yaml).executor;
    const executorName = typeof executor === 'string' ? executor : (executor as Yaml | undefined)?.name;
    if (typeof executorName === 'string' && executorName.startsWith(`${alias}/`)) {
      uses++;
      if (!component('executors', executorName.slice(alias.length + 1)))
        problems.push(`jobs.${name}: no executor ${executorName}`);
    }
    visitSteps(`jobs.${name}`, (job as Yaml).steps);
  }
  for (const [name, workflow] of Object.entries((usage.workflows ?? {}) as Yaml)) {
    for (const entry of ((workflow as Yaml).jobs ?? []) as unknown[]) {
      const [key, args] =
        typeof entry === 'string' ? [entry, {}] : (Object.entries(entry as Yaml)[0] ?? ['', {}]);
      if (!key.startsWith(`${alias}/`)) continue;
      uses++;
      const job = component('jobs', key.slice(alias.length + 1));
      if (!job) problems.push(`workflows.${name}: ${key} is not a job of the orb`);
      else checkArgs(`workflows.${name}: ${key}`, job.parameters as Yaml, args, WORKFLOW_JOB_KEYS);
    }
  }
  if (uses === 0) problems.push(`nothing of ${alias}/ is used`);
  return problems;
}
