/**
 * Lets the first log line of each key through, and holds back the lines of that key for the next
 * `intervalMs`, counting them; once the interval is over, `reportHeld` is given their count (when
 * any were held). A client polling through an outage then does not write a warning per request
 * (each request still has its own `request` line), and no count is lost when the outage ends.
 */
export class LogThrottle<Details> {
  private readonly open = new Map<string, { held: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly reportHeld: (details: Details, held: number) => void,
  ) {}

  /** Whether this line goes to the log now; `details` are those its count is reported with. */
  pass(key: string, details: Details): boolean {
    const window = this.open.get(key);
    if (window) {
      window.held += 1;
      return false;
    }
    const opened = { held: 0 };
    this.open.set(key, opened);
    setTimeout(() => {
      this.open.delete(key);
      if (opened.held > 0) this.reportHeld(details, opened.held);
    }, this.intervalMs).unref();
    return true;
  }
}
