import { describe, expect, it } from 'vitest';
import { activatesOnJoin, durationSeconds, endCauseAfterLeave } from './mpc-lifecycle.js';

describe('MPC lifecycle', () => {
  it('activates an initialized MPC when a participant that starts it joins', () => {
    expect(activatesOnJoin('Initialized', { startMpcOnEnter: true })).toBe(true);
    expect(activatesOnJoin('Initialized', { startMpcOnEnter: false })).toBe(false);
    expect(activatesOnJoin('Active', { startMpcOnEnter: true })).toBe(false);
  });

  it.each([
    ['the last participant leaves', { endMpcOnExit: false }, [], 1000],
    ['a participant that ends it on exit leaves', { endMpcOnExit: true }, [{ stayAlone: true }, { stayAlone: true }], 1000],
    ['the one left may not stay alone', { endMpcOnExit: false }, [{ stayAlone: false }], 1010],
    ['the one left may stay alone', { endMpcOnExit: false }, [{ stayAlone: true }], null],
    ['two are left', { endMpcOnExit: false }, [{ stayAlone: false }, { stayAlone: false }], null],
  ])('when %s the cause is %s', (_case, leaver, remaining, cause) => {
    expect(endCauseAfterLeave(leaver, remaining)).toBe(cause);
  });

  it('reports whole seconds, null until ended', () => {
    expect(durationSeconds(new Date(0), null)).toBeNull();
    expect(durationSeconds(new Date(0), new Date(61_400))).toBe(61);
  });
});
