import { eq } from 'drizzle-orm';
import type { Database } from '../persistence/database.js';
import { accounts, type AccountRow } from '../persistence/schema.js';

export class AccountsRepository {
  constructor(private readonly db: Database) {}

  async find(authId: string): Promise<AccountRow | undefined> {
    const [row] = await this.db.select().from(accounts).where(eq(accounts.authId, authId));
    return row;
  }

  async count(): Promise<number> {
    return this.db.$count(accounts);
  }

  /** Creates the account, or sets its token when it exists. */
  async upsert(authId: string, authToken: string): Promise<void> {
    await this.db
      .insert(accounts)
      .values({ authId, authToken })
      .onConflictDoUpdate({ target: accounts.authId, set: { authToken } });
  }
}
