/**
 * Token bucket per key: `requests` tokens refilled evenly over `windowMs`, so a burst of the
 * full allowance passes and the sustained rate is requests per window, as Plivo's limit reads.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly requests: number,
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Takes one token for `key`: answers 0, or, when none is left, how many ms until the next one.
   * A limit of 0 disables limiting.
   */
  take(key: string): number {
    if (this.requests === 0) return 0;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.requests, at: now };
    bucket.tokens = Math.min(this.requests, bucket.tokens + ((now - bucket.at) * this.requests) / this.windowMs);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return ((1 - bucket.tokens) * this.windowMs) / this.requests;
    bucket.tokens -= 1;
    return 0;
  }
}
