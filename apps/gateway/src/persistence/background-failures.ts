import type { Logger } from '../common/logger.js';
import { reasonOf } from '../common/reason-of.js';
import { isDatabaseUnreachable } from './database-unreachable.js';

/**
 * How a task that runs again and again says it failed: a database out of reach once, as a warning,
 * and once more when it answers again, rather than at every round; anything else as an error.
 */
export class BackgroundFailures {
  private waitingForDatabase = false;

  constructor(
    private readonly logger: Logger,
    private readonly task: string,
  ) {}

  failed(error: unknown): void {
    if (!isDatabaseUnreachable(error)) return this.logger.error({ err: error }, `${this.task} failed`);
    if (!this.waitingForDatabase) this.logger.warn({ reason: reasonOf(error) }, `${this.task} waits: the database cannot be reached; it goes on once the database answers`);
    this.waitingForDatabase = true;
  }

  succeeded(): void {
    if (this.waitingForDatabase) this.logger.info(`the database answers again; ${this.task} goes on`);
    this.waitingForDatabase = false;
  }
}
