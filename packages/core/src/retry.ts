/**
 * Retry with capped exponential backoff and full jitter. Pure: time, sleeping and randomness come from
 * `RetryDeps`, so tests drive it with a fake clock and never wait (the model is configure-aws-credentials'
 * retry helper with an injectable sleep).
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  /** Upper bound of the first backoff; each later one doubles it. */
  baseDelayMs: number;
  /** No single backoff is longer than this. */
  maxDelayMs: number;
  /** No retry starts once the time spent (plus the coming sleep) would exceed this. */
  maxElapsedMs: number;
  /** A server's Retry-After is honoured up to this, so a hostile or confused server cannot park a CI job. */
  maxRetryAfterMs: number;
}

/** 5 attempts, base 500 ms, each sleep at most 8 s, at most 60 s in total, Retry-After capped at 30 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxElapsedMs: 60_000,
  maxRetryAfterMs: 30_000,
});

export interface RetryDeps {
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  now(): number;
  random(): number;
}

/** The real clock, timer and Math.random. */
export const realRetryDeps: RetryDeps = Object.freeze({
  sleep: (ms: number, signal?: AbortSignal) => delay(ms, undefined, signal ? { signal } : undefined),
  now: () => Date.now(),
  random: () => Math.random(),
});

/** DEFAULT_RETRY_POLICY with the given overrides; an undefined override (an unset input) keeps the default. */
export function retryPolicyWith(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, ...definedOnly(overrides) };
}

/** realRetryDeps with the given replacements (tests inject a fake sleep, clock or random). */
export function retryDepsWith(overrides: Partial<RetryDeps> = {}): RetryDeps {
  return { ...realRetryDeps, ...definedOnly(overrides) };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Full-jitter backoff after failed attempt `attempt` (1-based): random() * min(cap, base * 2^(attempt-1)). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const exponent = Math.max(0, attempt - 1);
  // Math.min before multiplying keeps huge exponents from turning into Infinity * 0 = NaN.
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(exponent, 52));
  return Math.floor(random() * ceiling);
}

/** A Retry-After header (delay-seconds or HTTP-date) as milliseconds from `nowMs`; undefined when absent or invalid. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only a date-like value goes to Date.parse: it would read "1.5" or "-3" as a date.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export interface RetryDecision {
  retry: boolean;
  /** Overrides the backoff (a capped Retry-After, for instance). */
  delayMs?: number;
}

export interface RetryOptions {
  policy: RetryPolicy;
  deps: RetryDeps;
  decide(error: unknown, attempt: number): RetryDecision;
  onRetry?(info: { attempt: number; delayMs: number; error: unknown }): void;
  signal?: AbortSignal;
}

/**
 * Calls `fn(attempt)` until it resolves, `decide` refuses a retry, the attempts run out, the next sleep would
 * pass `maxElapsedMs`, or `signal` aborts; then throws the last error.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const { policy, deps, signal } = opts;
  const startedAt = deps.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted || attempt >= policy.maxAttempts) throw error;
      const decision = opts.decide(error, attempt);
      if (!decision.retry) throw error;
      const delayMs = Math.max(0, decision.delayMs ?? backoffDelay(attempt, policy, deps.random));
      if (deps.now() - startedAt + delayMs > policy.maxElapsedMs) throw error;
      opts.onRetry?.({ attempt, delayMs, error });
      try {
        await deps.sleep(delayMs, signal);
      } catch {
        // Aborted while waiting: the caller cares about why the call failed, not about the sleep.
        throw error;
      }
    }
  }
}
