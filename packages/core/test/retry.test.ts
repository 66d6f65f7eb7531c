import { describe, expect, it } from '@jest/globals';
import {
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  type RetryDeps,
  type RetryPolicy,
  realRetryDeps,
  retryDepsWith,
  retryPolicyWith,
  withRetry,
} from '../src/retry.js';

/** A clock that only moves when the code under test sleeps (or the test says so); sleeps are recorded. */
function fakeDeps(random = 0.5) {
  const state = { now: 1_000_000, sleeps: [] as number[] };
  const deps: RetryDeps = {
    sleep: async (ms) => {
      state.sleeps.push(ms);
      state.now += ms;
    },
    now: () => state.now,
    random: () => random,
  };
  return { deps, state };
}

const policy: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  maxElapsedMs: 60_000,
  maxRetryAfterMs: 5_000,
};

describe('DEFAULT_RETRY_POLICY', () => {
  it('is 5 attempts, 500 ms base, 8 s cap, 60 s total, Retry-After capped at 30 s', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxAttempts: 5,
      baseDelayMs: 500,
      maxDelayMs: 8_000,
      maxElapsedMs: 60_000,
      maxRetryAfterMs: 30_000,
    });
  });
});

describe('retryPolicyWith / retryDepsWith', () => {
  it('overrides only the fields that are defined', () => {
    expect(retryPolicyWith({ maxAttempts: 2, maxDelayMs: undefined })).toEqual({
      ...DEFAULT_RETRY_POLICY,
      maxAttempts: 2,
    });
    expect(retryPolicyWith()).toEqual(DEFAULT_RETRY_POLICY);
    const now = () => 42;
    const deps = retryDepsWith({ now, random: undefined });
    expect(deps.now).toBe(now);
    expect(deps.random).toBe(realRetryDeps.random);
    expect(deps.sleep).toBe(realRetryDeps.sleep);
  });
});

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt and scales it by random() (full jitter)', () => {
    expect(backoffDelay(1, policy, () => 0.5)).toBe(50);
    expect(backoffDelay(2, policy, () => 0.5)).toBe(100);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.999)).toBe(399);
  });

  it('never exceeds maxDelayMs, even for huge attempt numbers', () => {
    expect(backoffDelay(5, policy, () => 0.999)).toBe(999);
    expect(backoffDelay(10, policy, () => 0.5)).toBe(500);
    expect(backoffDelay(5_000, policy, () => 0.5)).toBe(500);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2030, 0, 1, 12, 0, 0);

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('120', now)).toBe(120_000);
  });

  it('reads an HTTP-date relative to now, and a past date as 0', () => {
    expect(parseRetryAfter(new Date(now + 7_000).toUTCString(), now)).toBe(7_000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 12:00:42 GMT', now)).toBe(42_000);
    expect(parseRetryAfter(new Date(now - 60_000).toUTCString(), now)).toBe(0);
  });

  it('answers undefined for an absent or invalid value', () => {
    for (const value of [undefined, '', '  ', 'soon', '-3', '1.5', '3 seconds']) {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    }
  });
});

describe('withRetry', () => {
  it('retries until fn succeeds, sleeping the backoff in between', async () => {
    const { deps, state } = fakeDeps();
    const seen: number[] = [];
    const result = await withRetry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new Error(`fail ${attempt}`);
        return 'ok';
      },
      { policy, deps, decide: () => ({ retry: true }) },
    );
    expect(result).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
    expect(state.sleeps).toEqual([50, 100]);
  });

  it('throws the last error once the attempts are exhausted', async () => {
    const { deps, state } = fakeDeps();
    const errors: Error[] = [];
    const run = withRetry(
      async (attempt) => {
        const error = new Error(`fail ${attempt}`);
        errors.push(error);
        throw error;
      },
      { policy, deps, decide: () => ({ retry: true }) },
    );
    await expect(run).rejects.toThrow('fail 4');
    expect(errors).toHaveLength(4);
    expect(state.sleeps).toHaveLength(3);
  });

  it('stops at once when decide refuses, and passes decide the error and attempt', async () => {
    const { deps, state } = fakeDeps();
    const decided: Array<[unknown, number]> = [];
    const failure = new Error('not retryable');
    await expect(
      withRetry(
        async () => {
          throw failure;
        },
        {
          policy,
          deps,
          decide: (error, attempt) => {
            decided.push([error, attempt]);
            return { retry: false };
          },
        },
      ),
    ).rejects.toBe(failure);
    expect(decided).toEqual([[failure, 1]]);
    expect(state.sleeps).toEqual([]);
  });

  it('sleeps the delay decide asks for instead of the backoff, and reports each retry', async () => {
    const { deps, state } = fakeDeps();
    const retries: Array<{ attempt: number; delayMs: number }> = [];
    await withRetry(
      async (attempt) => {
        if (attempt < 3) throw new Error('busy');
        return attempt;
      },
      {
        policy,
        deps,
        decide: () => ({ retry: true, delayMs: 2_500 }),
        onRetry: ({ attempt, delayMs, error }) => {
          expect(error).toBeInstanceOf(Error);
          retries.push({ attempt, delayMs });
        },
      },
    );
    expect(state.sleeps).toEqual([2_500, 2_500]);
    expect(retries).toEqual([
      { attempt: 1, delayMs: 2_500 },
      { attempt: 2, delayMs: 2_500 },
    ]);
  });

  it('does not start a sleep that would pass maxElapsedMs, counting the time attempts take', async () => {
    const { deps, state } = fakeDeps(1);
    let attempts = 0;
    const run = withRetry(
      async () => {
        attempts++;
        state.now += 400; // each attempt takes 400 ms on the fake clock
        throw new Error(`fail ${attempts}`);
      },
      {
        policy: { ...policy, maxAttempts: 100, baseDelayMs: 1_000, maxDelayMs: 1_000, maxElapsedMs: 3_000 },
        deps,
        decide: () => ({ retry: true }),
      },
    );
    // t=400 sleep 1000 -> t=1400, attempt -> 1800 sleep -> 2800, attempt -> 3200: 3200+1000 > 3000, stop.
    await expect(run).rejects.toThrow('fail 3');
    expect(state.sleeps).toEqual([1_000, 1_000]);
  });

  it('stops when the signal aborts during a sleep and throws the error of the call, not of the sleep', async () => {
    const controller = new AbortController();
    const sleeps: number[] = [];
    const deps: RetryDeps = {
      sleep: async (ms) => {
        sleeps.push(ms);
        controller.abort();
        throw new Error('sleep aborted');
      },
      now: () => 0,
      random: () => 0.5,
    };
    let attempts = 0;
    const run = withRetry(
      async () => {
        attempts++;
        throw new Error('call failed');
      },
      { policy, deps, decide: () => ({ retry: true }), signal: controller.signal },
    );
    await expect(run).rejects.toThrow('call failed');
    expect(attempts).toBe(1);
    expect(sleeps).toEqual([50]);
  });
});

describe('realRetryDeps', () => {
  it('sleeps with a real timer and rejects when the signal is already aborted', async () => {
    await expect(realRetryDeps.sleep(0)).resolves.toBeUndefined();
    await expect(realRetryDeps.sleep(10_000, AbortSignal.abort())).rejects.toThrow();
    expect(typeof realRetryDeps.now()).toBe('number');
    const r = realRetryDeps.random();
    expect(r >= 0 && r < 1).toBe(true);
  });
});
