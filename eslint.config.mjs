// Lint configuration (flat config, eslint 10 + typescript-eslint 8), run by `npm run lint` and
// first thing in `npm test`.
//
// Only syntax-level rules (js + typescript-eslint "recommended", no type-checked rules): the
// whole tree lints in seconds without building a TypeScript program a second time (tsc already
// checks types).
//
// Choices:
// - no-explicit-any is an error in runtime/ and luatos-api/: values there come from Lua scripts
//   and the network, and an `any` hides exactly the shape mistakes hostile input exploits; the
//   few places that talk to untyped libraries (fengari, node-media-server) say so with an
//   eslint-disable comment. It is off in test/ and scripts/, where `any` is used to read JSON
//   replies and poke at internals on purpose and a typo fails the test anyway.
// - no-require-imports: the sources are ES modules compiled to CommonJS; a `require()` is allowed
//   only where marked (lazy or optional loading), and in the plain .js files (CommonJS).
// - no-unused-vars: a leading underscore marks a parameter or binding that is unused on purpose.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeGlobals = {
  require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly',
  process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', performance: 'readonly',
  setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
  setImmediate: 'readonly', clearImmediate: 'readonly', queueMicrotask: 'readonly',
};
const browserGlobals = {
  window: 'readonly', self: 'readonly', document: 'readonly', location: 'readonly', fetch: 'readonly',
  WebSocket: 'readonly', Blob: 'readonly', URL: 'readonly', ResizeObserver: 'readonly', performance: 'readonly',
  requestAnimationFrame: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly',
  setInterval: 'readonly', clearInterval: 'readonly', module: 'readonly',
  // scripts the console page loads before app.js
  mpegts: 'readonly', LuatosTagFilter: 'readonly', LuatosUsage: 'readonly',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },

  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {
        args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_',
        caughtErrors: 'all', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_',
        ignoreRestSiblings: true,
      }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['test/**', 'scripts/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: nodeGlobals },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['runtime/host/web/static/**/*.js'],
    languageOptions: { sourceType: 'script', globals: browserGlobals },
  },
);
