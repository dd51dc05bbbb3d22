/** One jest run covers the construct library (test/) and the memo service (app/test/). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/app/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
  },
  testTimeout: 60_000,
  // Integration suites share real services; running files one at a time keeps them from
  // competing for the two cores and for the broker.
  maxWorkers: 1,
};
