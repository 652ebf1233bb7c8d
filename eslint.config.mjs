import fs from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

// Test-only code: end-to-end support, specs, fixtures, reference models, anything under a testing/ folder.
// tsconfig.build.json keeps the same globs out of dist, so production code must never import them.
const testCode = [
  './test',
  './**/*.spec.ts',
  './**/test-fixtures.ts',
  './**/*.reference.ts',
  './**/testing/**',
];

/**
 * A feature room (a folder directly under apps/api or apps/worker) is private to itself: another room may import
 * only its `index.ts` (what the room chooses to show) and its Nest `*.module.ts`. `apps/api/http` is the plumbing
 * every room shares; files at the top of an app (main, app module) compose the rooms and may import anything.
 * The rooms are read from the tree, so a new folder is covered without touching this file.
 */
function featureZones(app, shared) {
  const rooms = fs
    .readdirSync(app, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !shared.includes(d.name))
    .map((d) => d.name);
  return rooms.flatMap((target) =>
    rooms
      .filter((from) => from !== target)
      .map((from) => ({
        target: `./${app}/${target}`,
        from: `./${app}/${from}`,
        except: ['./index.ts', './*.module.ts'],
        message: `rooms import each other only through index.ts or the Nest module; export what ${from}/ shows there`,
      })),
  );
}

const boundaries = [
  { target: './libs', from: './apps', message: 'libs never import apps: dependencies point inward' },
  { target: './libs', from: './scripts', message: 'libs never import scripts' },
  { target: './libs', from: './bench', message: 'libs never import bench' },
  {
    target: './libs/domain',
    from: './libs',
    except: ['./domain'],
    message: 'libs/domain is pure: it imports nothing of ours outside libs/domain',
  },
  {
    target: './apps',
    from: './scripts',
    message: 'apps never import scripts/: move shared start-up code into libs',
  },
  { target: './apps/api', from: './apps/worker', message: 'the api and the worker are separate deployables' },
  { target: './apps/worker', from: './apps/api', message: 'the api and the worker are separate deployables' },
  {
    target: './apps/cli',
    from: './apps/api',
    message: "the command line uses libs (e.g. libs/access for accounts), never the API's internals",
  },
  {
    target: './apps/cli',
    from: './apps/worker',
    message: "the command line uses libs, never the worker's internals",
  },
  ...featureZones('apps/api', ['http']),
  ...featureZones('apps/worker', []),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'jest.config.cjs', 'eslint.config.mjs'] },
  js.configs.recommended,
  // Type-aware: a promise nobody awaits, one handed where a callback's result is ignored, an `any` leaking into
  // typed code are bugs only types can see. The project service reuses tsconfig.json (about a minute on 2 cores).
  ...tseslint.configs.recommendedTypeChecked,
  { languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } } },
  { files: ['**/*.mjs', '**/*.cjs', '**/*.js'], ...tseslint.configs.disableTypeChecked },
  prettier,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  {
    // Boundaries: which folder may import which (see README "Architecture").
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Our relative imports name the emitted `.js`; the source beside it is `.ts`.
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.js', '.json'],
          extensionAlias: { '.js': ['.ts', '.js'] },
        }),
      ],
    },
    rules: { 'import-x/no-restricted-paths': ['error', { zones: boundaries }] },
  },
  {
    // Production code never imports test code.
    files: ['apps/**/*.ts', 'libs/**/*.ts', 'scripts/**/*.ts', 'migrations/**/*.ts', 'bench/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/test-fixtures.ts', '**/*.reference.ts', '**/testing/**'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            ...boundaries,
            ...testCode.map((from) => ({
              target: './',
              from,
              message: 'production code never imports test code (it is not built into dist)',
            })),
          ],
        },
      ],
    },
  },
  {
    // HTTP responses in end-to-end suites are untyped JSON; asserting on them is the point.
    // Test doubles implement async interfaces without awaiting, and jest's matchers hand over unbound methods.
    files: ['test/**/*.ts', '**/*.spec.ts', '**/*.e2e-spec.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
