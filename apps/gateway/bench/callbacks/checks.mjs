// Checks on what the receiver got: every expected (RecordingUUID, SequenceNumber) exactly once,
// per recording in SequenceNumber order, and nothing unexpected.

/**
 * @param {Array<{ recordingUuid: string, sequence: number, event: string }>} arrivals in arrival order
 * @param {Map<string, number>} expected recording id -> how many events it emitted (SequenceNumbers 1..n)
 */
export function checkDeliveries(arrivals, expected) {
  const seen = new Map(); // recording -> Set of sequences
  const highest = new Map(); // recording -> highest sequence arrived so far
  let duplicates = 0;
  let orderViolations = 0;
  let unexpected = 0;
  const examples = [];
  for (const arrival of arrivals) {
    const { recordingUuid: recording, sequence } = arrival;
    const limit = expected.get(recording);
    if (limit === undefined || sequence < 1 || sequence > limit) {
      unexpected++;
      if (examples.length < 5) examples.push(`unexpected ${recording} #${sequence} (${arrival.event})`);
      continue;
    }
    let set = seen.get(recording);
    if (!set) seen.set(recording, (set = new Set()));
    if (set.has(sequence)) {
      duplicates++;
      continue;
    }
    set.add(sequence);
    const top = highest.get(recording) ?? 0;
    if (sequence < top) {
      orderViolations++;
      if (examples.length < 5) examples.push(`out of order: ${recording} #${sequence} after #${top}`);
    } else {
      highest.set(recording, sequence);
    }
  }
  let expectedTotal = 0;
  let missing = 0;
  for (const [recording, count] of expected) {
    expectedTotal += count;
    const set = seen.get(recording);
    for (let sequence = 1; sequence <= count; sequence++) {
      if (set?.has(sequence)) continue;
      missing++;
      if (examples.length < 5) examples.push(`missing ${recording} #${sequence}`);
    }
  }
  return { expected: expectedTotal, arrivals: arrivals.length, unique: expectedTotal - missing, missing, duplicates, orderViolations, unexpected, examples };
}

/** Problems (bench errors) in a checkDeliveries() result; duplicates are allowed (at-least-once). */
export function deliveryProblems(label, check) {
  const problems = [];
  if (check.missing > 0) problems.push(`${label}: ${check.missing} of ${check.expected} events never arrived (${check.examples.join('; ')})`);
  if (check.orderViolations > 0) problems.push(`${label}: ${check.orderViolations} events arrived out of SequenceNumber order (${check.examples.join('; ')})`);
  if (check.unexpected > 0) problems.push(`${label}: ${check.unexpected} unexpected callbacks (${check.examples.join('; ')})`);
  return problems;
}

/**
 * Summarises the gateway's own delivery log (GET …/Recording/{id}/Callback/) of some recordings:
 * statuses, attempts per event and the dispatcher's attempt latency (latency_ms), of the events
 * `keep` accepts.
 */
export function summariseDeliveryLog(logs, keep = () => true) {
  const statuses = {};
  let events = 0;
  let attempts = 0;
  let retried = 0;
  const latencies = [];
  const errors = {};
  for (const objects of logs) {
    for (const event of objects) {
      if (!keep(event)) continue;
      events++;
      statuses[event.status] = (statuses[event.status] ?? 0) + 1;
      attempts += event.attempts.length;
      if (event.attempts.length > 1) retried++;
      for (const attempt of event.attempts) {
        latencies.push(attempt.latency_ms);
        if (attempt.error) errors[attempt.error] = (errors[attempt.error] ?? 0) + 1;
      }
    }
  }
  return { events, attempts, retried, statuses, errors, latencies };
}
