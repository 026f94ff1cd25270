/**
 * Not a test: the child process used by child-hygiene.test.ts. Does nothing unless
 * CAMERA_FIXTURE_MODE is set (the test runner also loads every file under test/).
 *
 * Starts a camera whose ffmpeg carries the marker CAMERA_FIXTURE_TAG, prints "READY <ffmpeg pid>"
 * and then, by mode: 'wait' (parent sends a signal), 'throw' (uncaught exception), 'exit'
 * (process.exit(3) without stopping the camera), 'sigint-handled' (the app has its own SIGINT
 * handler that exits after a tick), 'silent-child' (a tracked `sh -c sleep` instead of a camera).
 */
import { FfmpegCamera } from '../../runtime/media/camera/ffmpeg-camera';
import { spawnTracked } from '../../runtime/media/ffmpeg/child-registry';

const mode = process.env.CAMERA_FIXTURE_MODE;
if (mode === 'silent-child') {
  // A tracked child that never writes anything (like an ffmpeg stuck opening a device): only the
  // watchdog can notice that Node died.
  const c = spawnTracked('/bin/sh', ['-c', `sleep 1000; : ${process.env.CAMERA_FIXTURE_TAG}`], { stdio: 'ignore' });
  process.stdout.write(`READY ${c.pid}\n`);
  setInterval(() => {}, 1000);
} else if (mode) {
  const cam = new FfmpegCamera({ source: 'testsrc:plain', tag: process.env.CAMERA_FIXTURE_TAG, config: { width: 320, height: 240 } });
  cam.on('error', () => {});
  if (mode === 'sigint-handled') {
    process.on('SIGINT', () => {
      setTimeout(() => process.exit(0), 50);
    });
  }
  cam.start().then(
    () => {
      process.stdout.write(`READY ${cam.pid}\n`);
      if (mode === 'throw') setTimeout(() => { throw new Error('boom (fixture)'); }, 200);
      if (mode === 'exit') setTimeout(() => process.exit(3), 200);
      setInterval(() => {}, 1000); // stay alive until told otherwise
    },
    (e: Error) => {
      process.stdout.write(`FAIL ${e.message}\n`);
      process.exit(2);
    },
  );
}
