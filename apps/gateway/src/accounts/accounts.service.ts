import type { AccountRow } from '../persistence/schema.js';
import type { AccountsRepository } from './accounts.repository.js';
import { newAuthId, newAuthToken, secretsEqual, type BasicCredentials } from './credentials.js';

export class AccountsService {
  /** Accounts change only at start-up, so each is read from the database once. */
  private readonly cache = new Map<string, AccountRow>();

  constructor(private readonly repository: AccountsRepository) {}

  async find(authId: string): Promise<AccountRow | undefined> {
    let account = this.cache.get(authId);
    if (!account) {
      account = await this.repository.find(authId);
      if (account) this.cache.set(account.authId, account);
    }
    return account;
  }

  async authenticate(credentials: BasicCredentials): Promise<AccountRow | undefined> {
    const account = await this.find(credentials.authId);
    // Compare a token even for an unknown account, so the timing does not tell which auth_ids exist.
    const matches = secretsEqual(credentials.authToken, account?.authToken ?? credentials.authToken.replace(/./g, '\0'));
    return account && matches ? account : undefined;
  }

  /**
   * Applies the configured accounts; with none configured and none stored, creates one.
   * Answers the account it created, so the caller can show its token once.
   */
  async bootstrap(configured: BasicCredentials[]): Promise<BasicCredentials | undefined> {
    for (const { authId, authToken } of configured) await this.repository.upsert(authId, authToken);
    this.cache.clear();
    if (configured.length > 0 || (await this.repository.count()) > 0) return undefined;
    const created = { authId: newAuthId(), authToken: newAuthToken() };
    await this.repository.upsert(created.authId, created.authToken);
    return created;
  }
}
