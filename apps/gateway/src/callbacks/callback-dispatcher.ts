import type { AccountsService } from '../accounts/accounts.service.js';
import type { Logger } from '../common/logger.js';
import type { Database } from '../persistence/database.js';
import type { CallbackEventRow } from '../persistence/schema.js';
import type { PrivateAccess } from './address-guard.js';
import { attemptDelivery } from './http-delivery.js';
import type { OutboxRepository } from './outbox.repository.js';
import { delivered, parseCallbackUrl, retriable, retryDelayMs } from './retry-policy.js';

export interface DispatcherOptions {
  pollMs: number;
  /** Deliveries in flight at once, across receivers; one per recording at a time. */
  concurrency: number;
  access: PrivateAccess;
}

/**
 * Delivers the outbox at least once: a recording's events in SequenceNumber order, one at a time,
 * many recordings at once, so a slow or dead receiver holds up only its own recordings. Anything
 * left pending by a crash is picked up again on the next start.
 */
export class CallbackDispatcher {
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private again = false;
  private stopped = true;

  constructor(
    private readonly db: Database,
    private readonly outbox: OutboxRepository,
    private readonly accounts: AccountsService,
    private readonly logger: Logger,
    private readonly options: DispatcherOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.options.pollMs);
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled(this.inFlight.values());
  }

  /** Looks for due events now: called after a transaction wrote some, and by the poll timer. */
  wake(): void {
    if (this.stopped) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = true;
    void this.poll()
      .catch((error: unknown) => this.logger.error({ err: error }, 'callback poll failed'))
      .finally(() => {
        this.polling = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async poll(): Promise<void> {
    const room = this.options.concurrency - this.inFlight.size;
    if (room <= 0) return;
    const due = await this.outbox.due(this.db, new Date(), room, [...this.inFlight.keys()]);
    for (const event of due) {
      if (this.inFlight.has(event.recordingId)) continue;
      const delivery = this.deliver(event)
        .catch((error: unknown) => this.logger.error({ err: error, event_id: event.id }, 'callback delivery failed'))
        .finally(() => {
          this.inFlight.delete(event.recordingId);
          this.wake();
        });
      this.inFlight.set(event.recordingId, delivery);
    }
  }

  private async deliver(event: CallbackEventRow): Promise<void> {
    const account = await this.accounts.find(event.authId);
    const { url, policy } = parseCallbackUrl(event.url);
    const started = performance.now();
    const attemptedAt = new Date();
    const outcome = account
      ? await attemptDelivery({ url, method: event.method, params: event.params, authToken: account.authToken, policy }, this.options.access)
      : ({ kind: 'refused', error: 'the account no longer exists' } as const);
    const latencyMs = Math.round(performance.now() - started);
    const attempts = event.attempts + 1;
    const ok = delivered(outcome);
    const retry = !ok && retriable(outcome, policy) && attempts <= policy.retries;
    const status = ok ? 'delivered' : retry ? 'pending' : 'failed';
    await this.outbox.recordAttempt(
      this.db,
      event.id,
      { at: attemptedAt, httpStatus: outcome.kind === 'status' ? outcome.status : null, latencyMs, error: outcome.kind === 'status' ? null : `${outcome.kind}: ${outcome.error}` },
      {
        status,
        attempts,
        nextAttemptAt: new Date(Date.now() + (retry ? retryDelayMs(attempts) : 0)),
        finishedAt: retry ? null : new Date(),
      },
    );
    const log = { event_id: event.id, recording_id: event.recordingId, event: event.eventName, sequence: event.sequenceNumber, attempt: attempts, latency_ms: latencyMs, outcome, status };
    if (ok) this.logger.info(log, 'callback delivered');
    else this.logger.warn(log, retry ? 'callback attempt failed; will retry' : 'callback not delivered');
  }
}
