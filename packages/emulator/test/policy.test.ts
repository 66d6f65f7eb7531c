import { describe, expect, it } from '@jest/globals';
import { hasAnyGrant, isAllowed, parsePolicy } from '../src/policy.js';

describe('policies', () => {
  it('parses type:verb@urn, defaulting the urn to *', () => {
    expect(parsePolicy('job:new@*')).toEqual({ type: 'job', verb: 'new', urn: '*' });
    expect(parsePolicy('*:get')).toEqual({ type: '*', verb: 'get', urn: '*' });
    expect(parsePolicy('not a policy')).toBeUndefined();
  });

  it('matches types, verbs and urn globs', () => {
    const policies = ['job:get@*', 'job:new@org:account:a1*'].map((p) => parsePolicy(p)!);
    expect(isAllowed(policies, 'job', 'get', 'anything')).toBe(true);
    expect(isAllowed(policies, 'job', 'new', 'org:account:a1')).toBe(true);
    expect(isAllowed(policies, 'job', 'new', 'org:account:b2')).toBe(false);
    expect(isAllowed(policies, 'job', 'set', 'org:account:a1')).toBe(false);
    expect(isAllowed([parsePolicy('*:*@*')!], 'role', 'new', 'x')).toBe(true);
    expect(hasAnyGrant(policies, 'job', 'get')).toBe(true);
    expect(hasAnyGrant(policies, 'role', 'get')).toBe(false);
  });
});
