import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Globals src/core must never touch: it runs in pages, workers and Node alike, and holds tokens
// that must never reach storage or logs. The compiler already refuses most of these (no DOM lib);
// this names the reason.
const notInCore = [
  'window',
  'document',
  'self',
  'navigator',
  'location',
  'localStorage',
  'sessionStorage',
  'indexedDB',
  'caches',
  'process',
  'Buffer',
  'require',
  'console',
].map((name) => ({ name, message: `src/core is runtime-neutral and silent: no ${name}.` }));

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'dist',
      'data',
      'bench/results',
      'test-results',
      'playwright-report',
      '.smoke',
      '.pack',
      '.docs-check',
      'examples/*/dist',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    languageOptions: { globals: {} },
    rules: { 'no-restricted-globals': ['error', ...notInCore], 'no-console': 'error' },
  },
  {
    files: ['src/core/platform.d.ts'],
    rules: { 'no-var': 'off' },
  },
);
