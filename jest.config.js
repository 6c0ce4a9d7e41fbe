/** Unit specs sit beside the sources; e2e specs boot host apps on real databases. */
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  moduleNameMapper: { '^nestjs-lost-reason$': '<rootDir>/lib' },
};

const e2e = {
  ...common,
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/lib/**/*.spec.ts'] },
    { ...e2e, displayName: 'e2e' },
    {
      // The e2e suites again, on the schema the shipped migrations build (synchronize off), as
      // production hosts run. The README and migration specs build their own schema.
      ...e2e,
      displayName: 'e2e-migrations',
      testPathIgnorePatterns: ['/node_modules/', '/test/readme\\.e2e-spec\\.ts$', '/test/migrations\\.e2e-spec\\.ts$', '/test/package\\.e2e-spec\\.ts$', '/test/instances\\.e2e-spec\\.ts$', '/test/faults\\.e2e-spec\\.ts$', '/test/naming\\.e2e-spec\\.ts$', '/test/counts\\.e2e-spec\\.ts$', '/test/replicas\\.e2e-spec\\.ts$'],
      setupFilesAfterEnv: ['<rootDir>/test/support/migrated-schema.ts'],
    },
  ],
};
