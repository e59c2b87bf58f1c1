import type { TerminationCauseCode } from '@mpc/contracts';

export type MpcStatus = 'Initialized' | 'Active' | 'Ended';

/** Whether a participant joining makes an initialized MPC active. */
export function activatesOnJoin(status: MpcStatus, joiner: { startMpcOnEnter: boolean }): boolean {
  return status === 'Initialized' && joiner.startMpcOnEnter;
}

/**
 * What a participant leaving does to the MPC: it ends when the leaver ends it on exit, when no one
 * is left, or when the one left may not stay alone. Null when the MPC goes on.
 */
export function endCauseAfterLeave(
  leaver: { endMpcOnExit: boolean },
  remaining: readonly { stayAlone: boolean }[],
): TerminationCauseCode | null {
  if (leaver.endMpcOnExit || remaining.length === 0) return 1000;
  if (remaining.length === 1 && !remaining[0]!.stayAlone) return 1010;
  return null;
}

/** Whole seconds from start to end, as the MPC and participant objects report duration. */
export function durationSeconds(start: Date | null, end: Date | null): number | null {
  if (!start || !end) return null;
  return Math.max(0, Math.round((end.getTime() - start.getTime()) / 1000));
}
