import { defineConfig } from 'vitest/config';

const postgres = process.env.MPC_TEST_DATABASE_URL;
if (!postgres) {
  const message = 'PostgreSQL tier skipped: set MPC_TEST_DATABASE_URL (as .ci/run does) to run the integration suite on a server too.';
  if (process.env.CI) throw new Error(`${message} CI must run it.`);
  console.warn(message);
}

export default defineConfig({
  test: {
    testTimeout: 60_000,
    // Integration files each run a gateway and stream audio in real time: one at a time keeps timing honest.
    fileParallelism: false,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.spec.ts'] } },
      { extends: true, test: { name: 'pglite', include: ['test/**/*.spec.ts'] } },
      ...(postgres
        ? [{ extends: true, test: { name: 'postgres', include: ['test/integration/**/*.spec.ts'], env: { MPC_TEST_DB: 'postgres' } } }]
        : []),
    ],
  },
});
