import { setMaxListeners } from 'node:events';
import type { AccountsService } from '../accounts/accounts.service.js';
import type { Logger } from '../common/logger.js';
import { reasonOf } from '../common/reason-of.js';
import type { Database } from '../persistence/database.js';
import { BackgroundFailures } from '../persistence/background-failures.js';
import type { CallbackEventRow } from '../persistence/schema.js';
import type { PrivateAccess } from './address-guard.js';
import { attemptDelivery } from './http-delivery.js';
import type { AttemptResult, OutboxRepository } from './outbox.repository.js';
import { delivered, parseCallbackUrl, retriable, retryDelayMs } from './retry-policy.js';

/** How long a stop lets deliveries in flight finish before it cuts them off. */
const STOP_GRACE_MS = 2000;
/** How soon attempts the database would not take are logged again. */
const FLUSH_RETRY_MS = 1000;

export interface DispatcherOptions {
  pollMs: number;
  /** Deliveries in flight at once, across receivers; one per recording at a time. */
  concurrency: number;
  /** Deliveries in flight at once to one receiver (scheme, host and port), so one that hangs cannot take every slot. */
  hostConcurrency: number;
  access: PrivateAccess;
}

/**
 * Delivers the outbox at least once: a recording's events in SequenceNumber order, one at a time,
 * many recordings at once, and no more than its share to one receiver, so a slow or dead receiver
 * holds up only the recordings that point at it. Anything left pending by a crash is picked up
 * again on the next start.
 */
export class CallbackDispatcher {
  /** Recordings with an attempt in flight or not yet logged, each with its receiver: each has one at a time. */
  private readonly busy = new Map<string, string>();
  /** How many of the busy recordings each receiver has. */
  private readonly perReceiver = new Map<string, number>();
  private readonly finished: { recordingId: string; result: AttemptResult }[] = [];
  private readonly deliveries = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private lastClaimAt = -Infinity;
  private pollAgain = false;
  private flushing: Promise<void> | undefined;
  private stopped = true;
  /** Stopped, and what was left logged: nothing touches the database any more. */
  private closed = false;
  private readonly pollFailures: BackgroundFailures;
  private readonly flushFailures: BackgroundFailures;
  /** Aborted when a stop has waited long enough: attempts cut off are not logged, and go again at the next start. */
  private cut = new AbortController();

  constructor(
    private readonly db: Database,
    private readonly outbox: OutboxRepository,
    private readonly accounts: AccountsService,
    private readonly logger: Logger,
    private readonly options: DispatcherOptions,
  ) {
    this.pollFailures = new BackgroundFailures(logger, 'callback poll');
    this.flushFailures = new BackgroundFailures(logger, 'logging callback attempts');
  }

  start(): void {
    this.stopped = false;
    this.closed = false;
    this.cut = new AbortController();
    // Every delivery in flight listens to it: as many as the concurrency allows, not a leak.
    setMaxListeners(this.options.concurrency + 1, this.cut.signal);
    this.timer = setInterval(() => this.wake(), this.options.pollMs);
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const grace = setTimeout(() => this.cut.abort(), STOP_GRACE_MS);
    await Promise.allSettled(this.deliveries);
    clearTimeout(grace);
    await this.flush().catch((error: unknown) =>
      this.logger.warn({ reason: reasonOf(error) }, 'callback attempts could not be logged at the stop; their events go again at the next start'),
    );
    this.closed = true;
  }

  /** Looks for due events: called after a transaction wrote some, when attempts are logged, and by the timer. */
  wake(): void {
    if (this.stopped) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    void this.poll()
      .catch((error: unknown) => this.pollFailures.failed(error))
      .finally(() => {
        this.polling = false;
        if (this.pollAgain) {
          this.pollAgain = false;
          this.wake();
        }
      });
  }

  private async poll(): Promise<void> {
    const room = this.options.concurrency - this.busy.size;
    if (room <= 0) return;
    // Claim in batches while busy, as one query per free slot would make the database the limit;
    // but no free slot waits longer than a poll, or slow receivers would hold up everyone else.
    const batch = Math.min(16, this.options.concurrency);
    if (this.busy.size > 0 && room < batch && performance.now() - this.lastClaimAt < this.options.pollMs) return;
    this.lastClaimAt = performance.now();
    const full = [...this.perReceiver].filter(([, count]) => count >= this.options.hostConcurrency).map(([receiver]) => receiver);
    const due = await this.outbox.due(this.db, new Date(), room + this.busy.size, full);
    this.pollFailures.succeeded();
    // A stop that came meanwhile has taken its count of deliveries in flight: start no more.
    if (this.stopped) return;
    for (const event of due) {
      if (this.busy.has(event.recordingId) || this.busy.size >= this.options.concurrency) continue;
      if ((this.perReceiver.get(event.receiver) ?? 0) >= this.options.hostConcurrency) continue;
      this.claim(event);
      const delivery = this.deliver(event)
        .then((result) => {
          if (result) this.finished.push({ recordingId: event.recordingId, result });
          else this.release(event.recordingId);
        })
        .catch((error: unknown) => {
          this.logger.error({ err: error, event_id: event.id }, 'callback delivery failed');
          this.release(event.recordingId);
        })
        .finally(() => {
          this.deliveries.delete(delivery);
          this.scheduleFlush();
        });
      this.deliveries.add(delivery);
    }
  }

  private claim({ recordingId, receiver }: CallbackEventRow): void {
    this.busy.set(recordingId, receiver);
    this.perReceiver.set(receiver, (this.perReceiver.get(receiver) ?? 0) + 1);
  }

  private release(recordingId: string): void {
    const receiver = this.busy.get(recordingId);
    if (receiver === undefined) return;
    this.busy.delete(recordingId);
    const left = this.perReceiver.get(receiver)! - 1;
    if (left === 0) this.perReceiver.delete(receiver);
    else this.perReceiver.set(receiver, left);
  }

  /**
   * Logs finished attempts together; their recordings are free for their next event only once
   * logged. Attempts the database would not take are kept, their recordings busy, and logged again
   * a while later: freed, the event still pending would go out again at once, and again.
   */
  private scheduleFlush(delayMs = 0): void {
    if (this.flushing || this.closed) return;
    let failed = false;
    this.flushing = new Promise<void>((resolve) => (delayMs > 0 ? setTimeout(resolve, delayMs) : setImmediate(resolve)))
      .then(async () => {
        // The stop logged what was left itself, and the database may be closed.
        if (this.closed) return;
        try {
          await this.flush();
          this.flushFailures.succeeded();
        } catch (error) {
          failed = true;
          this.flushFailures.failed(error);
        }
      })
      .finally(() => {
        this.flushing = undefined;
        if (this.closed) return;
        if (this.finished.length > 0) this.scheduleFlush(failed ? FLUSH_RETRY_MS : 0);
        if (!failed) this.wake();
      });
  }

  private async flush(): Promise<void> {
    const batch = this.finished.splice(0);
    if (batch.length === 0) return;
    try {
      await this.outbox.recordAttempts(this.db, batch.map(({ result }) => result));
    } catch (error) {
      this.finished.unshift(...batch);
      throw error;
    }
    for (const { recordingId } of batch) this.release(recordingId);
  }

  /** One attempt, and what to log of it; nothing when a stop cut it off. */
  private async deliver(event: CallbackEventRow): Promise<AttemptResult | undefined> {
    const account = await this.accounts.find(event.authId);
    const { url, policy } = parseCallbackUrl(event.url);
    const started = performance.now();
    const attemptedAt = new Date();
    const outcome = account
      ? await attemptDelivery({ url, method: event.method, params: event.params, authToken: account.authToken, policy }, this.options.access, this.cut.signal)
      : ({ kind: 'refused', error: 'the account no longer exists' } as const);
    if (this.cut.signal.aborted && !delivered(outcome)) {
      this.logger.warn({ event_id: event.id, recording_id: event.recordingId, event: event.eventName }, 'callback attempt cut off by the stop; it goes again at the next start');
      return undefined;
    }
    const latencyMs = Math.round(performance.now() - started);
    const attempts = event.attempts + 1;
    const ok = delivered(outcome);
    const retry = !ok && retriable(outcome, policy) && attempts <= policy.retries;
    const status = ok ? 'delivered' : retry ? 'pending' : 'failed';
    const log = { event_id: event.id, recording_id: event.recordingId, event: event.eventName, sequence: event.sequenceNumber, attempt: attempts, latency_ms: latencyMs, outcome, status };
    if (ok) this.logger.info(log, 'callback delivered');
    else this.logger.warn(log, retry ? 'callback attempt failed; will retry' : 'callback not delivered');
    return {
      eventId: event.id,
      attemptedAt,
      httpStatus: outcome.kind === 'status' ? outcome.status : null,
      latencyMs,
      error: outcome.kind === 'status' ? null : `${outcome.kind}: ${outcome.error}`,
      status,
      attempts,
      nextAttemptAt: new Date(Date.now() + (retry ? retryDelayMs(attempts) : 0)),
      finishedAt: retry ? null : new Date(),
    };
  }
}
