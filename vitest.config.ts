import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: [
      { find: /^gradc$/, replacement: fileURLToPath(new URL('./compiler/index.ts', import.meta.url)) },
      { find: /^gradc\/runtime\/webgpu$/, replacement: fileURLToPath(new URL('./runtime/webgpu/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
  },
});
