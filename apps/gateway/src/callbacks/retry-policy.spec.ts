import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, delivered, parseCallbackUrl, retriable, retryDelayMs } from './retry-policy.js';

describe('callback retry policy', () => {
  it('strips the fragment and reads its rules', () => {
    const { url, policy } = parseCallbackUrl('https://example.com/cb?x=1#ct=500&rt=1500&tt=3000&rc=3&rp=5xx,ct&er=mumbai');
    expect(url).toBe('https://example.com/cb?x=1');
    expect(policy).toEqual({ connectTimeoutMs: 500, readTimeoutMs: 1500, totalTimeoutMs: 3000, retries: 3, retryOn: new Set(['5xx', 'ct']) });
  });

  it("uses Plivo's defaults without a fragment", () => {
    expect(parseCallbackUrl('https://example.com/cb')).toEqual({ url: 'https://example.com/cb', policy: DEFAULT_RETRY_POLICY });
  });

  it('clamps values to Plivo\'s ranges and ignores junk', () => {
    const { policy } = parseCallbackUrl('https://e.com/#ct=5&rt=999999&rc=9&rp=all,bogus&tt=x');
    expect(policy).toMatchObject({ connectTimeoutMs: 100, readTimeoutMs: 40000, retries: 5, totalTimeoutMs: 55000 });
    expect([...policy.retryOn].sort()).toEqual(['4xx', '5xx', 'ct', 'rt']);
  });

  it('retries what the policy names, and nothing that was acknowledged', () => {
    const policy = parseCallbackUrl('https://e.com/#rp=5xx').policy;
    expect(retriable({ kind: 'status', status: 503 }, policy)).toBe(true);
    expect(retriable({ kind: 'status', status: 404 }, policy)).toBe(false);
    expect(retriable({ kind: 'ct', error: 'refused' }, policy)).toBe(false);
    expect(retriable({ kind: 'rt', error: 'slow' }, DEFAULT_RETRY_POLICY)).toBe(true);
    expect(delivered({ kind: 'status', status: 204 })).toBe(true);
    expect(delivered({ kind: 'status', status: 302 })).toBe(false);
  });

  it('backs off exponentially, capped', () => {
    expect([1, 2, 3, 10].map(retryDelayMs)).toEqual([1000, 2000, 4000, 30000]);
  });
});
