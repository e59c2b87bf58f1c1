/** Socket errors of a database server that is down, unreachable or gone mid-query. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * SQLSTATEs of a server that cannot serve now: connection exceptions (class 08), too many
 * connections, a statement cancelled (its timeout: a server that stopped answering), and a server
 * shutting down, restarting or starting.
 */
const UNAVAILABLE_STATES = new Set(['53300', '57014', '57P01', '57P02', '57P03']);

/** What node-postgres and its pool throw when the connection itself fails, with no code. */
const CONNECTION_MESSAGES = /^(timeout exceeded when trying to connect|Connection terminated)/;

/**
 * Whether an error, or one it was caused by (query builders wrap the driver's), says the database
 * server could not be reached or could not serve: a failure of the service, not of the request.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth += 1) {
    const { code, severity } = cause as { code?: unknown; severity?: unknown };
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08'))) return true;
    // A FATAL error ends the server's session: the connection failed, whatever the reason given.
    if (severity === 'FATAL' || severity === 'PANIC') return true;
    if (CONNECTION_MESSAGES.test(cause.message)) return true;
  }
  return false;
}
