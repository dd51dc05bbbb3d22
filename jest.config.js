/** One jest run covers the construct library (test/) and the memo service (app/test/). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/app/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
    // jose ships ES modules only. Node loads them through require() (the service runs compiled
    // CommonJS), but jest's module system does not, so its files are transpiled to CommonJS here.
    '/node_modules/jose/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022', isolatedModules: true } },
    ],
  },
  // The examples import the library by its package name; here that is the source.
  moduleNameMapper: { '^memostack$': '<rootDir>/charts/index.ts' },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  testTimeout: 60_000,
  // Integration suites share real services; running files one at a time keeps them from
  // competing for the two cores and for the broker.
  maxWorkers: 1,
};
