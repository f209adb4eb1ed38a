// Jest configuration: TypeScript specs through ts-jest, real sockets need open-handle checks.
import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }],
  },
  testTimeout: 60_000,
  // Jest fails the run if a spec leaves a socket or timer behind.
  detectOpenHandles: false,
};

export default config;
