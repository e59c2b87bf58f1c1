/**
 * Plivo's per-URL callback rules, written in the URL's fragment: `#ct=2000&rt=5000&rc=2&rp=5xx`.
 * Timeouts in milliseconds; `rp` lists what is retried: 4xx, 5xx, ct (connect failure or
 * timeout), rt (read timeout), or all.
 */
export interface RetryPolicy {
  connectTimeoutMs: number;
  readTimeoutMs: number;
  totalTimeoutMs: number;
  retries: number;
  retryOn: ReadonlySet<'4xx' | '5xx' | 'ct' | 'rt'>;
}

/** What one attempt came to: an HTTP status, a connect or read failure, or a refused address (never retried). */
export type AttemptOutcome = { kind: 'status'; status: number } | { kind: 'ct' | 'rt' | 'refused'; error: string };

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  connectTimeoutMs: 2000,
  readTimeoutMs: 40000,
  totalTimeoutMs: 55000,
  retries: 1,
  retryOn: new Set(['ct', 'rt']),
};

const clamp = (value: string | null, min: number, max: number, fallback: number) => {
  if (value === null || !/^\d+$/.test(value)) return fallback;
  return Math.min(max, Math.max(min, Number(value)));
};

/** The URL to call (fragment removed) and the rules its fragment sets, Plivo's defaults elsewhere. */
export function parseCallbackUrl(registered: string): { url: string; policy: RetryPolicy } {
  const hash = registered.indexOf('#');
  const url = hash === -1 ? registered : registered.slice(0, hash);
  const fragment = new URLSearchParams(hash === -1 ? '' : registered.slice(hash + 1));
  const retryOn = new Set<'4xx' | '5xx' | 'ct' | 'rt'>();
  for (const item of (fragment.get('rp') ?? 'ct,rt').split(',').map((part) => part.trim().toLowerCase())) {
    if (item === 'all') ['4xx', '5xx', 'ct', 'rt'].forEach((kind) => retryOn.add(kind as '4xx'));
    else if (item === '4xx' || item === '5xx' || item === 'ct' || item === 'rt') retryOn.add(item);
  }
  return {
    url,
    policy: {
      connectTimeoutMs: clamp(fragment.get('ct'), 100, 10000, DEFAULT_RETRY_POLICY.connectTimeoutMs),
      readTimeoutMs: clamp(fragment.get('rt'), 100, 40000, DEFAULT_RETRY_POLICY.readTimeoutMs),
      totalTimeoutMs: clamp(fragment.get('tt'), 100, 55000, DEFAULT_RETRY_POLICY.totalTimeoutMs),
      retries: clamp(fragment.get('rc'), 0, 5, DEFAULT_RETRY_POLICY.retries),
      retryOn,
    },
  };
}

/** Whether an attempt acknowledged the event: any 2xx. */
export const delivered = (outcome: AttemptOutcome) => outcome.kind === 'status' && outcome.status >= 200 && outcome.status < 300;

/** Whether the policy retries after this outcome (when retries are left). */
export function retriable(outcome: AttemptOutcome, policy: RetryPolicy): boolean {
  if (outcome.kind === 'refused') return false;
  if (outcome.kind !== 'status') return policy.retryOn.has(outcome.kind);
  if (outcome.status >= 500) return policy.retryOn.has('5xx');
  if (outcome.status >= 400) return policy.retryOn.has('4xx');
  return false;
}

/** Wait before retry `attempt` (1 for the first retry): 1 s, 2 s, 4 s … capped at 30 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** (attempt - 1));
}
