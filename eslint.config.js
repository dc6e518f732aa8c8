// Type-aware lint, kept to rules that catch real bugs in an event-driven daemon and CLI:
// a promise nobody awaits or catches (a failure lost, or an unhandled rejection that ends the
// process), a promise passed where a callback's result is ignored (an event handler, a timer),
// and `await` on something that is not a promise. Style is left to review.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'native/**', 'tmp/**']},
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname},
    },
    // Directives for rules this config does not enable (some code anticipates stricter sets) are left alone.
    linterOptions: {reportUnusedDisableDirectives: 'off'},
    plugins: {'@typescript-eslint': tseslint.plugin},
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/only-throw-error': 'error',
    },
  },
);
