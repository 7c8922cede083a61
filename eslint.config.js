// ESLint flat config: typescript-eslint's type-aware rules everywhere, and determinism rules for workflow
// code (workflows/** may import only @temporalio/workflow, @temporalio/common, types, and pure modules).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'src/generated/', '.data/', '.tools/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.mjs', 'scripts/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/*.test.ts', 'workflows/test-support.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'net', 'child_process'], message: 'Workflow code must be deterministic: no Node built-ins.' },
            { group: ['@prisma/*', '**/generated/**', 'express', 'pg', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'Workflow code must not do I/O: call an activity.' },
            { group: ['**/src/connectors/**', '**/src/db/**', '**/src/userstore/**', '**/src/http/**', '**/activities/*'], allowTypeImports: true, message: 'Workflows import activity and connector code as types only.' },
          ],
        },
      ],
      // Date, Math.random and setTimeout are made deterministic by the workflow sandbox; fetch does not exist there.
      'no-restricted-globals': ['error', { name: 'fetch', message: 'Workflow code must not do I/O: call an activity.' }],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
);
