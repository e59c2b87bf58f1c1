import type { Logger } from '../common/logger.js';
import { reasonOf } from '../common/reason-of.js';
import { isDatabaseFull, isDatabaseUnreachable } from './database-unreachable.js';

/**
 * How a task that runs again and again says it failed: a database out of reach, or out of disk
 * space, once, as a warning, and once more when it serves again, rather than at every round;
 * anything else as an error.
 */
export class BackgroundFailures {
  private waitingFor: 'reach' | 'room' | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly task: string,
  ) {}

  failed(error: unknown): void {
    const waitFor = isDatabaseUnreachable(error) ? 'reach' : isDatabaseFull(error) ? 'room' : undefined;
    if (!waitFor) return this.logger.error({ err: error }, `${this.task} failed`);
    if (this.waitingFor !== waitFor) {
      const why = waitFor === 'reach' ? 'the database cannot be reached; it goes on once the database answers' : 'the database has no room left on its disk; it goes on once it has';
      this.logger.warn({ reason: reasonOf(error) }, `${this.task} waits: ${why}`);
    }
    this.waitingFor = waitFor;
  }

  succeeded(): void {
    if (this.waitingFor) this.logger.info(`the database ${this.waitingFor === 'reach' ? 'answers' : 'takes writes'} again; ${this.task} goes on`);
    this.waitingFor = undefined;
  }
}
