#!/usr/bin/env node
'use strict';
// Entry point of the `luatos` command. The TypeScript sources are compiled to dist/ by
// `npm install` (the prepare script) or `npm run build`.
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'runtime', 'host', 'cli', 'main.js');
if (!fs.existsSync(cli)) {
  console.error('luatos: the runtime is not built yet. Run `npm install` (or `npm run build`) in ' + path.join(__dirname, '..'));
  process.exit(2);
}
require(cli).main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // every part closes its handles on the way out; should one linger anyway, the command still
    // ends (the run's output is written by then: stdout and stderr pipes are synchronous)
    setTimeout(() => process.exit(code), 1500).unref();
  },
  (err) => { console.error('luatos: internal error:', err && err.stack || err); process.exitCode = 1; },
);
