// Jest runs the TypeScript sources as native ES modules (`npm test` passes
// --experimental-vm-modules): @kubernetes/client-node 1.x ships only ESM.
// Type checking is done once by `tsc` before jest starts, so ts-jest only transpiles.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Most suites start real processes (redis-server, kubectl, the fake API server).
  testTimeout: 60_000,
  // Two cores: more workers only make the process-heavy suites fight for CPU.
  maxWorkers: 2,
};
