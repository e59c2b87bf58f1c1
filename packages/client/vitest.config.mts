import { defineConfig } from 'vitest/config';

// Generous timeouts: CI machines are shared, and a test that takes long is not a failing one.
export default defineConfig({ test: { include: ['src/**/*.spec.ts'], testTimeout: 60_000 } });
