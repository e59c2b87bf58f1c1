/**
 * What failed said of itself: the innermost cause's words, beneath any wrapping (the query builder's
 * repeats the whole statement).
 */
export function reasonOf(error: unknown): string {
  let reason = String(error);
  for (const cause of causesOf(error)) reason = cause.message;
  return reason;
}

/** The error and the errors it was caused by, outermost first; at most 8, so a cycle ends. */
export function* causesOf(error: unknown): Generator<Error> {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth += 1) yield cause;
}
