import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import walls from './tools/eslint-unit-walls.mjs';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.cache/**', '.akdeploy-tmp/**', 'bin/**', 'jest.config.js', 'tools/jest-skip-reporter.js', 'eslint.config.mjs', 'compose/**', 'docs/**', 'collectors/assets/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { auditkit: walls },
    rules: {
      'auditkit/unit-walls': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-control-regex': 'off',
    },
  },
);
