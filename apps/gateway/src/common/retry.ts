/**
 * Whether the `failures`th failure in a row of work tried again every few seconds goes to the log:
 * the first, then every 12th (about once a minute at 5 s apart), so a long outage is not a flood.
 */
export const isFailureLogged = (failures: number) => failures === 1 || failures % 12 === 0;

/** The waits between attempts: doubling from 250 ms, at most 5 s. */
export const retryDelayMs = (failures: number) => Math.min(5000, 250 * 2 ** (failures - 1));

/**
 * Runs `attempt` until it succeeds, waiting longer after each failure, as for a write the database
 * refused while it was unreachable. Stops trying once `giveUp()` says so (the process is stopping,
 * and its restart takes over); answers whether the attempt succeeded.
 */
export async function retryUntilDone(
  attempt: () => Promise<void>,
  { giveUp, onFailure }: { giveUp: () => boolean; onFailure: (error: unknown, failures: number) => void },
): Promise<boolean> {
  for (let failures = 1; ; failures += 1) {
    try {
      await attempt();
      return true;
    } catch (error) {
      onFailure(error, failures);
      if (giveUp()) return false;
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs(failures)));
      if (giveUp()) return false;
    }
  }
}

/**
 * Runs `attempt` up to `attempts` times, waiting longer after each failure, unless `giveUp()` says
 * to stop; rejects with the last failure.
 */
export async function retryTimes<T>(attempt: () => Promise<T>, attempts: number, giveUp: () => boolean = () => false): Promise<T> {
  for (let failures = 1; ; failures += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (failures >= attempts || giveUp()) throw error;
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs(failures)));
    }
  }
}
