/**
 * NestJS 12 ships as ES modules, so the project is ESM and Jest runs with --experimental-vm-modules (npm scripts set it).
 * Two projects: fast pure unit specs beside the code, and end-to-end suites against real PostgreSQL and Redis.
 */
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import siblings as `./x.js` (Node ESM); Jest resolves those to the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'es6' },
      },
    ],
  },
};

module.exports = {
  maxWorkers: 2,
  // Only the top level applies testTimeout (a project entry's is silently ignored): every hook and test of the
  // end-to-end suites may take a minute on a busy machine; a test that needs longer says so itself.
  testTimeout: 60000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'],
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
    // Processes on separate network namespaces (`npm run test:hosts`); skips itself where namespaces are not allowed.
    { ...common, displayName: 'hosts', testMatch: ['<rootDir>/test/hosts/**/*.hosts-spec.ts'] },
  ],
};
