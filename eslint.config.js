// Lint rules from ARCHITECTURE.md: type-checked rules, no floating promises, no `any` at boundaries,
// and no module reaching into another module's store/ or services/ (only its api.ts).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-expect-error': 'allow-with-description' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/modules/*/store/**',
                '**/modules/*/services/**',
                '../../*/store/**',
                '../../*/services/**',
              ],
              message: "Import another module's api.ts, never its store/ or services/.",
            },
          ],
        },
      ],
    },
  },
  {
    // The kernel knows no module: the entry point (modules/main.ts) hands it the list.
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+modules(/|$)',
              message: 'core/ never imports modules/: the entry point hands the kernel its modules.',
            },
          ],
        },
      ],
    },
  },
  // Inside a module anything of its own is fair game; of another module only its api.ts.
  ...[1, 2, 3].map((depth) => moduleBoundary(depth)),
  {
    files: ['tests/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);

/**
 * The import rule for files `depth` folders below modules/ (modules/X/a.ts is 1, modules/X/routes/a.ts is 2):
 * a path that climbs exactly to modules/ and enters a folder names another module, and may end only in that
 * module's api.js; a path that climbs further and comes back into modules/ is refused outright.
 */
function moduleBoundary(depth) {
  const up = '\\.\\./'.repeat(depth);
  return {
    files: [`modules/${'*/'.repeat(depth)}*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^${up}(?!\\.\\./)[^/]+/(?!api\\.js$)`,
              message: "Import only another module's api.ts, never its other files.",
            },
            {
              regex: `^${up}(\\.\\./)+modules/`,
              message: "Import another module by its folder's api.ts, not through modules/.",
            },
          ],
        },
      ],
    },
  };
}
