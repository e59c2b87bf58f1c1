/**
 * What failed said of itself: the innermost cause's words, beneath any wrapping (the query builder's
 * repeats the whole statement).
 */
export function reasonOf(error: unknown): string {
  let reason = String(error);
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth += 1) reason = cause.message;
  return reason;
}
