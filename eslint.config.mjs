import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const LOCAL_TOOLING = {
  group: ['**/local/**'],
  message: 'src/ ships; local/ is developer tooling and is not deployed.',
};
// App settings are read in src/libs/config.ts only: typed, validated, listed in docs/settings.md.
const SETTINGS = 'Read app settings through src/libs/config.ts (typed, validated, listed in docs/settings.md).';
const PROCESS_ENV = { object: 'process', property: 'env', message: SETTINGS };
const ENV_IMPORTS = ['process', 'node:process'].map((name) => ({ name, importNames: ['env'], message: SETTINGS }));

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.cache/**',
      '.bicep-out/**',
      'coverage/**',
      'test-artifacts/**',
      '.stryker-tmp/**',
      'reports/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // What ships never leans on local tooling: local/ is not deployed.
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ENV_IMPORTS, patterns: [LOCAL_TOOLING] }] },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/libs/config.ts'],
    rules: { 'no-restricted-properties': ['error', PROCESS_ENV] },
  },
  {
    // The orchestrator replays: wall-clock time and randomness there would change its decisions.
    // (These options replace those of the blocks above, so the src/** restrictions are repeated.)
    files: ['src/services/**/*.orchestrator.ts', 'src/services/orders/saga.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Use context.df.currentUtcDateTime in orchestrators.' },
        { object: 'Math', property: 'random', message: 'Orchestrators must be deterministic.' },
        PROCESS_ENV,
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'Use context.df.currentUtcDateTime in orchestrators.',
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: ENV_IMPORTS,
          patterns: [
            LOCAL_TOOLING,
            {
              group: ['**/repository', '@azure/cosmos', 'node:*'],
              message: 'Orchestrators do no I/O: call an activity.',
            },
          ],
        },
      ],
    },
  },
);
