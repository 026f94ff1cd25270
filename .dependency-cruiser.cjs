/**
 * The layer rules of the code map (README "Code map"), checked by `npm run lint:layers`
 * (part of `npm test`): a violation fails the suite.
 *
 *   runtime/core     device, VM, engines, file system, clock, log: imports no other layer
 *   runtime/net      the device network model; runtime/http the device HTTP client:
 *                    each imports only itself and core types; net nothing of the VM or engines
 *   runtime/media    RTMP, codecs, camera, ffmpeg: self-contained, no Lua
 *   runtime/boards   board presets: put a device together (core + net + the bindings)
 *   luatos-api       one binding per LuatOS module: anything below host
 *   runtime/host     CLI, web console, scenarios, logs, platform, workers: the Device's public
 *                    surface, never VM or engine internals
 * Type-only imports count: a cycle of types is still a cycle.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'no import cycles, type-only ones included',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-the-bottom',
      comment: 'runtime/core imports nothing from the layers above it',
      severity: 'error',
      from: { path: '^runtime/core/' },
      to: { path: '^(runtime/(net|http|media|host|boards)/|luatos-api/)' },
    },
    {
      name: 'media-self-contained',
      comment: 'runtime/media imports nothing outside runtime/media (and so knows nothing of Lua or the device)',
      severity: 'error',
      from: { path: '^runtime/media/' },
      to: { path: '^(runtime/(?!media/)|luatos-api/)' },
    },
    {
      name: 'net-http-on-core-types',
      comment: 'runtime/net and runtime/http import only runtime/core types (and their own folder)',
      severity: 'error',
      from: { path: '^runtime/(net|http)/' },
      to: { path: '^(runtime/(media|host|boards|lua)/|luatos-api/)' },
    },
    {
      name: 'net-http-core-types-only',
      comment: 'from runtime/core, runtime/net and runtime/http take types only',
      severity: 'error',
      from: { path: '^runtime/(net|http)/' },
      to: { path: '^runtime/core/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'net-knows-no-lua',
      comment:
        'runtime/net is a network model that emits typed events: it imports nothing of the VM or the engines, not even types (luatos-api/shared/net-events.ts turns its events into Lua topics)',
      severity: 'error',
      from: { path: '^runtime/net/' },
      to: { path: '^runtime/core/(vm|engine)/' },
    },
    {
      name: 'net-and-http-apart',
      comment: 'the network model and the HTTP client do not import each other',
      severity: 'error',
      from: { path: '^runtime/net/' },
      to: { path: '^runtime/http/' },
    },
    {
      name: 'api-below-host',
      comment: 'luatos-api never imports runtime/host',
      severity: 'error',
      from: { path: '^luatos-api/' },
      to: { path: '^runtime/host/' },
    },
    {
      name: 'host-uses-device-surface',
      comment: 'runtime/host uses the Device public surface, never VM or engine internals',
      severity: 'error',
      from: { path: '^runtime/host/' },
      to: { path: '^runtime/core/(vm|engine)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['cjs', 'es6'],
  },
};
