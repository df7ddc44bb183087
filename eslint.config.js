import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// node:test's describe/it/test return promises that the runner itself tracks.
const NODE_TEST_CALLS = ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'build/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Type-aware rules: a promise nobody awaits loses its rejection (an unhandled rejection ends
    // the process), and a promise handed where a void callback is expected is never awaited.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: NODE_TEST_CALLS }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // The allowance above also covers subtests (t.test), which node:test cancels when their
    // parent ends first: they must be awaited.
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "ExpressionStatement > CallExpression[callee.type='MemberExpression'][callee.property.name='test']",
          message: 'await subtests: node:test cancels a subtest still running when its parent test ends',
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', 'scripts/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', module: 'writable' } },
  },
);
