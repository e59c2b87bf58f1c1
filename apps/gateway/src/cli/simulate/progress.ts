export type CallState = 'streaming' | 'recording' | 'paused' | 'stopped';

const REDRAW_MS = 100;
const BAR_WIDTH = 30;

/**
 * What the user sees on stderr while the simulation runs. On a terminal the call is one line,
 * redrawn in place: elapsed/total seconds and whether the recording runs. Elsewhere (a pipe, a
 * log file, CI) each phase gets a line of its own, stamped with the call time.
 */
export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private total = 0;
  private state: CallState = 'streaming';
  private barShown = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    readonly live: boolean = out.isTTY === true,
  ) {}

  /** A line of its own (setup, waiting for the file...). */
  step(message: string): void {
    this.clearBar();
    this.out.write(`${message}\n`);
    if (this.timer) this.draw();
  }

  /** The streams are running: from now on the call clock counts. */
  startCall(totalSeconds: number, startedAt = performance.now()): void {
    this.startedAt = startedAt;
    this.total = totalSeconds;
    this.state = 'streaming';
    if (this.live) {
      this.draw();
      this.timer = setInterval(() => this.draw(), REDRAW_MS);
    } else {
      this.out.write(`[${this.clock()}] streaming ${totalSeconds} s of audio\n`);
    }
  }

  /** The recording changed state: redrawn on a terminal, a line elsewhere. */
  phase(state: CallState, message: string): void {
    this.state = state;
    if (this.live) this.draw();
    else this.out.write(`[${this.clock()}] ${message}\n`);
  }

  /** The call is over: the bar stays on screen, complete. */
  endCall(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.live && this.barShown) {
      this.draw();
      this.out.write('\n');
      this.barShown = false;
    }
  }

  private elapsed(): number {
    return Math.max(0, (performance.now() - this.startedAt) / 1000);
  }

  private clock(): string {
    return `${this.elapsed().toFixed(1).padStart(5)} s`;
  }

  private draw(): void {
    const elapsed = Math.min(this.elapsed(), this.total);
    const filled = this.total > 0 ? Math.round((elapsed / this.total) * BAR_WIDTH) : BAR_WIDTH;
    const bar = '█'.repeat(filled) + '░'.repeat(BAR_WIDTH - filled);
    const label = this.state === 'paused' ? 'paused (not recorded)' : this.state;
    this.out.write(`\r\x1b[K[${bar}] ${elapsed.toFixed(1)}/${this.total.toFixed(1)} s  ${label}`);
    this.barShown = true;
  }

  private clearBar(): void {
    if (this.live && this.barShown) {
      this.out.write('\r\x1b[K');
      this.barShown = false;
    }
  }
}
