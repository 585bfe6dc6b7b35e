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

// DESIGN §1's import directions: page -> core, sw -> core, server -> core; core imports none of
// them, and jose stays out of the page bundle. Within src a layer is named by its folder, so one
// pattern catches a relative import of it from any depth ('../server/x.ts', '../../sw/y.ts').
const layers = (...names) => `^(\\.\\./)+(${names.join('|')})(/|$)`;
const importRules = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const importDirections = [
  {
    files: ['src/core/**/*.ts'],
    rules: importRules(
      {
        regex: layers('page', 'sw', 'server', 'testing', 'vite'),
        message: 'DESIGN §1: src/core imports none of page, sw, server, testing or vite; they import core.',
      },
      {
        regex: '^tabwarden(/|$)',
        message: "DESIGN §1: src/core imports none of the package's entries; they import core.",
      },
    ),
  },
  {
    files: ['src/page/**/*.ts'],
    rules: importRules(
      {
        regex: layers('sw', 'server', 'testing', 'vite'),
        message: 'DESIGN §1: the page imports src/core only (never sw, server, testing or vite).',
      },
      {
        regex: '^jose(/|$)',
        message: 'DESIGN §1: jose lives in the worker and the server, never in the page bundle.',
      },
      {
        regex: '(^|/)core/verify-identity-token(\\.ts)?$',
        message: 'DESIGN §1: core/verify-identity-token.ts brings jose, which never enters the page bundle.',
      },
    ),
  },
  {
    files: ['src/sw/**/*.ts'],
    rules: importRules({
      regex: layers('page', 'server', 'testing', 'vite'),
      message: 'DESIGN §1: src/sw imports src/core only (never page, server, testing or vite).',
    }),
  },
  {
    files: ['src/server/**/*.ts'],
    rules: importRules({
      regex: layers('page', 'sw', 'testing', 'vite'),
      message: 'DESIGN §1: src/server imports src/core only (never page, sw, testing or vite).',
    }),
  },
];

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
  ...importDirections,
  {
    files: ['src/core/platform.d.ts'],
    rules: { 'no-var': 'off' },
  },
);
