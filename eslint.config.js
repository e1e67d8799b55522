// Lint rules; the import restrictions keep the client -> protocol <- coordinator boundary mechanical.
import tseslint from 'typescript-eslint';

const nodeOnly = ['node:*', 'fs', 'path', 'os', 'net', 'http', 'crypto', 'worker_threads', 'child_process', 'express', 'socket.io', 'pino', 'commander'];

export default tseslint.config(
  // scripts/build-native-aes.mjs: plain JavaScript that npm's postinstall runs before any dev dependency is known to be
  // there, outside the typed programs the rules below need.
  { ignores: ['node_modules/**', 'dist/**', 'test-output/**', 'eslint.config.js', '.dependency-cruiser.cjs', 'types/**', 'scripts/build-native-aes.mjs'] },
  ...tseslint.configs.recommended,
  {
    // scripts/check-types-and-lint.ts hands over the root program it already built; alone, ESLint builds it.
    languageOptions: {
      parserOptions: globalThis.fedrecLintPrograms
        ? { programs: globalThis.fedrecLintPrograms }
        : { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // An unawaited promise that rejects kills the coordinator; a promise where a callback is expected hides one.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['protocol/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeOnly, message: 'protocol/ is shared by Node and the browser: no Node-only modules.' },
            { group: ['**/coordinator/**', '**/client-sdk/**'], message: 'protocol/ imports neither side.' },
          ],
        },
      ],
    },
  },
  {
    files: ['secagg/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeOnly, message: 'secagg/ runs in Node and in the browser: no Node-only modules.' },
            { group: ['**/coordinator/**', '**/client-sdk/**'], message: 'secagg/ is transport-agnostic: it imports neither side.' },
          ],
        },
      ],
    },
  },
  {
    files: ['client-sdk/**/*.ts'],
    ignores: ['client-sdk/node/**', '**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeOnly, message: 'The shared client SDK path must run in a browser: put Node-only code under client-sdk/node/.' },
            { group: ['**/coordinator/**'], message: 'The client SDK must not import coordinator code.' },
          ],
        },
      ],
    },
  },
  {
    files: ['client-sdk/node/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/coordinator/**'], message: 'The client SDK must not import coordinator code.' }] }],
    },
  },
  {
    files: ['apps/**/*.ts', 'examples/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'test/**/*.ts', '**/*.test.ts'],
    rules: { 'no-console': 'off' },
  },
);
