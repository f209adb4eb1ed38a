// ESLint flat config: typescript-eslint's recommended rules over lib, spec, demos and bench.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'docs/api/',
      'coverage/',
      'bench/results/',
      'bench/.prof/',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Unused arguments named with a leading underscore are deliberate (callback shapes).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Listener maps and Node callback signatures need `any` in a few typed places.
      '@typescript-eslint/no-explicit-any': 'off',
      // RxJS scheduler actions run with `this` bound to the action, so timers keep the owner in a local.
      '@typescript-eslint/no-this-alias': 'off',
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      // Node's global Buffer is a getter: reading it costs tens of nanoseconds, per frame on a
      // hot path. The library imports it instead.
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: "import { Buffer } from 'buffer' (the global is a slow getter)" },
      ],
    },
  },
);
