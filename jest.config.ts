// Jest configuration: two projects, `unit` (virtual time and memory wires) and `integration`
// (real sockets, child processes, the docs' and package's checks). `npm test` runs both;
// `npm run test:unit` runs the first alone.
import type { Config } from 'jest';

/** Specs under these folders of spec/ open sockets or processes: the integration project. */
const INTEGRATION = ['integration', 'demos', 'docs', 'bench', 'package'];

const transform: Config['transform'] = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }],
};

const config: Config = {
  testTimeout: 60_000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      roots: ['<rootDir>/spec'],
      testMatch: ['<rootDir>/spec/**/*.spec.ts'],
      testPathIgnorePatterns: [`<rootDir>/spec/(${INTEGRATION.join('|')})/`],
      transform,
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      roots: ['<rootDir>/spec'],
      testMatch: [`<rootDir>/spec/{${INTEGRATION.join(',')}}/**/*.spec.ts`],
      transform,
    },
  ],
};

export default config;
