// Fault rules: which calls to spoil and how. Matching is pure; applying a fault happens in the listener.
import type { FaultRule, Target } from './types.js';

interface ActiveRule {
  rule: FaultRule;
  remaining: number;
}

/** Checks a rule that came from JSON or code; returns a problem description or undefined. */
export function faultRuleProblem(rule: unknown): string | undefined {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule))
    return 'a fault rule must be a JSON object';
  const r = rule as Record<string, unknown>;
  const known = [
    'method',
    'path',
    'target',
    'times',
    'status',
    'retryAfter',
    'latencyMs',
    'reset',
    'truncate',
  ];
  const unknown = Object.keys(r).find((k) => !known.includes(k));
  if (unknown) return `unknown fault rule field '${unknown}'`;
  if (r.method !== undefined && typeof r.method !== 'string') return 'method must be a string';
  if (r.path !== undefined && typeof r.path !== 'string') return 'path must be a string';
  if (
    r.target !== undefined &&
    !['api', 'internal', 'registry', 'volatile-registry'].includes(r.target as string)
  ) {
    return "target must be 'api', 'internal', 'registry' or 'volatile-registry'";
  }
  if (
    r.times !== undefined &&
    r.times !== 'always' &&
    !(typeof r.times === 'number' && (r.times === -1 || r.times >= 1))
  ) {
    return "times must be a number >= 1, -1 or 'always'";
  }
  if (
    r.status !== undefined &&
    !(Number.isInteger(r.status) && (r.status as number) >= 100 && (r.status as number) <= 599)
  ) {
    return 'status must be an HTTP status code';
  }
  for (const key of ['retryAfter', 'latencyMs'] as const) {
    if (r[key] !== undefined && !(typeof r[key] === 'number' && (r[key] as number) >= 0))
      return `${key} must be a number >= 0`;
  }
  for (const key of ['reset', 'truncate'] as const) {
    if (r[key] !== undefined && typeof r[key] !== 'boolean') return `${key} must be a boolean`;
  }
  return undefined;
}

/** How a journal entry names the fault applied. */
export function describeFault(rule: FaultRule): string {
  const parts: string[] = [];
  if (rule.latencyMs) parts.push(`latency ${rule.latencyMs}ms`);
  if (rule.reset) parts.push('reset');
  else if (rule.truncate) parts.push('truncate');
  else if (rule.status !== undefined) parts.push(`status ${rule.status}`);
  if (rule.retryAfter !== undefined) parts.push(`retry-after ${rule.retryAfter}`);
  return parts.join(', ') || 'none';
}

function pathMatches(pattern: string, path: string): boolean {
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path;
}

export class FaultBook {
  private readonly active: ActiveRule[] = [];

  add(rule: FaultRule): void {
    const problem = faultRuleProblem(rule);
    if (problem) throw new Error(`invalid fault rule: ${problem}`);
    const times = rule.times === undefined ? 1 : rule.times;
    const remaining =
      times === 'always' || times === -1 || times === Number.POSITIVE_INFINITY ? Infinity : times;
    this.active.push({ rule: { ...rule }, remaining });
  }

  clear(): void {
    this.active.length = 0;
  }

  /** The rules still in force, as JSON-friendly copies (`times` left: -1 = always). */
  list(): FaultRule[] {
    return this.active.map((a) => ({ ...a.rule, times: a.remaining === Infinity ? -1 : a.remaining }));
  }

  /** The first rule matching this call, counted as used; undefined when none applies. */
  take(target: Target, method: string, path: string): FaultRule | undefined {
    const index = this.active.findIndex(
      ({ rule }) =>
        (rule.target === undefined || rule.target === target) &&
        (rule.method === undefined || rule.method.toUpperCase() === method.toUpperCase()) &&
        (rule.path === undefined || pathMatches(rule.path, path)),
    );
    if (index < 0) return undefined;
    const entry = this.active[index]!;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.active.splice(index, 1);
    return entry.rule;
  }
}
