// Preloaded (NODE_OPTIONS=--require) into the test processes of `npm run test:unit`: a unit
// test file may start no child process and no server, so doing either throws here and fails
// the test that tried. Active only inside the test runner's child processes (NODE_TEST_CONTEXT),
// not in the runner itself, which has to spawn them.
'use strict';
if (process.env.NODE_TEST_CONTEXT) {
  const forbid = (what) => () => {
    throw new Error(`unit test started ${what}: move this file out of test/unit-files.txt`);
  };
  const cp = require('node:child_process');
  for (const fn of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
    cp[fn] = forbid(`a child process (child_process.${fn})`);
  }
  require('node:net').Server.prototype.listen = forbid('a server (net.Server.listen)');
  require('node:dgram').Socket.prototype.bind = forbid('a server (dgram bind)');
}
