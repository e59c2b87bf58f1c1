/**
 * Lets one log line through per `intervalMs` for each key and counts those it held back, so a
 * client polling through an outage does not write a warning per request (each request still has
 * its own `request` line).
 */
const MAX_KEYS = 32;

export class LogThrottle {
  private readonly lastLogged = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly intervalMs = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether this key's line goes to the log now, and how many of its lines were held back since the last one. */
  pass(key: string): { log: boolean; held: number } {
    const now = this.now();
    const last = this.lastLogged.get(key);
    if (last && now - last.at < this.intervalMs) {
      last.held += 1;
      return { log: false, held: 0 };
    }
    if (!last && this.lastLogged.size >= MAX_KEYS) this.forgetQuietKeys(now);
    this.lastLogged.set(key, { at: now, held: 0 });
    return { log: true, held: last?.held ?? 0 };
  }

  /** Keys may carry what failed said, which varies: past MAX_KEYS, those quiet for a whole interval are dropped. */
  private forgetQuietKeys(now: number): void {
    for (const [key, { at }] of this.lastLogged) if (now - at >= this.intervalMs) this.lastLogged.delete(key);
  }
}
