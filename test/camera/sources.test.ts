import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CameraSourceError,
  formatSource,
  listV4l2Devices,
  parseAvfoundationList,
  parseDshowList,
  parseSource,
  sourceFilter,
  sourceInputArgs,
  validateSource,
} from '../../runtime/media/camera/sources';
import { tempDir } from '../helpers/tmp';

const cfg = { width: 1280, height: 720, fps: 15 };

test('parseSource syntax', () => {
  assert.deepEqual(parseSource(undefined), { kind: 'testsrc', plain: false });
  assert.deepEqual(parseSource('testsrc'), { kind: 'testsrc', plain: false });
  assert.deepEqual(parseSource('testsrc:plain'), { kind: 'testsrc', plain: true });
  assert.deepEqual(parseSource('v4l2:/dev/video2'), { kind: 'v4l2', device: '/dev/video2' });
  assert.deepEqual(parseSource('/dev/video0'), { kind: 'v4l2', device: '/dev/video0' });
  assert.deepEqual(parseSource('avfoundation:0'), { kind: 'avfoundation', device: '0' });
  assert.deepEqual(parseSource('dshow:Integrated Camera'), { kind: 'dshow', device: 'Integrated Camera' });
  assert.deepEqual(parseSource('dshow:video=USB Cam'), { kind: 'dshow', device: 'USB Cam' });
  assert.deepEqual(parseSource('file:C:/v/a b.mp4'), { kind: 'file', path: 'C:/v/a b.mp4' });
  assert.throws(() => parseSource('rtsp://x'), CameraSourceError);
  assert.throws(() => parseSource('file:'), /nothing after/);
  assert.throws(() => parseSource('webcam'), /expected testsrc/);
  for (const s of ['testsrc', 'testsrc:plain', 'v4l2:/dev/video1', 'avfoundation:1', 'dshow:Cam', 'file:/a.mp4']) {
    assert.equal(formatSource(parseSource(s)), s);
  }
});

test('input arguments per source', () => {
  assert.deepEqual(sourceInputArgs(parseSource('testsrc'), cfg), ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=15']);
  assert.deepEqual(sourceInputArgs(parseSource('v4l2:/dev/video0'), cfg), ['-f', 'v4l2', '-framerate', '15', '-video_size', '1280x720', '-i', '/dev/video0']);
  assert.deepEqual(sourceInputArgs(parseSource('avfoundation:0'), cfg).slice(-2), ['-i', '0:none']);
  assert.deepEqual(sourceInputArgs(parseSource('dshow:Cam'), cfg).slice(-2), ['-i', 'video=Cam']);
  assert.deepEqual(sourceInputArgs(parseSource('file:/a.mp4'), cfg), ['-stream_loop', '-1', '-re', '-i', '/a.mp4']);
  assert.equal(sourceFilter(parseSource('file:/a.mp4'), cfg), 'scale=1280:720,fps=15,format=yuv420p');
  assert.equal(sourceFilter(parseSource('testsrc'), cfg), undefined, 'no font → plain');
  assert.match(sourceFilter(parseSource('testsrc'), cfg, { fontFile: '/f.ttf' }) ?? '', /^drawtext=fontfile='\/f.ttf'/);
  assert.equal(sourceFilter(parseSource('testsrc:plain'), cfg, { fontFile: '/f.ttf' }), undefined);
});

test('validateSource: missing device, missing file, wrong platform', () => {
  assert.throws(() => validateSource(parseSource('v4l2:/dev/video99'), 'linux'), (e: CameraSourceError) => e.code === 'ENODEV' && /\/dev\/video99 does not exist/.test(e.message));
  assert.throws(() => validateSource(parseSource('file:/nonexistent/x.mp4')), (e: CameraSourceError) => e.code === 'ENOENT' && /does not exist/.test(e.message));
  assert.throws(() => validateSource(parseSource('v4l2:/dev/video0'), 'darwin'), /needs Linux/);
  assert.throws(() => validateSource(parseSource('dshow:x'), 'linux'), /needs Windows/);
  assert.throws(() => validateSource(parseSource('avfoundation:0'), 'win32'), /needs macOS/);
  const plain = path.join(os.tmpdir(), `not-a-device-${process.pid}`);
  fs.writeFileSync(plain, '');
  try {
    assert.throws(() => validateSource(parseSource(`v4l2:${plain}`), 'linux'), /not a character device/);
  } finally {
    fs.rmSync(plain, { force: true });
  }
  validateSource(parseSource('testsrc'));
});

test('listV4l2Devices reads /dev and /sys names', () => {
  const root = tempDir('luatos-cam-list-');
  try {
    fs.mkdirSync(path.join(root, 'dev'));
    for (const n of ['video10', 'video2', 'video3', 'vide', 'null']) fs.writeFileSync(path.join(root, 'dev', n), '');
    fs.mkdirSync(path.join(root, 'sys', 'video2'), { recursive: true });
    fs.writeFileSync(path.join(root, 'sys', 'video2', 'name'), 'HD USB Camera: HD USB Camera\n');
    fs.writeFileSync(path.join(root, 'sys', 'video2', 'index'), '0\n');
    fs.mkdirSync(path.join(root, 'sys', 'video3'), { recursive: true });
    fs.writeFileSync(path.join(root, 'sys', 'video3', 'name'), 'HD USB Camera: HD USB Camera\n');
    fs.writeFileSync(path.join(root, 'sys', 'video3', 'index'), '1\n');
    const list = listV4l2Devices(path.join(root, 'dev'), path.join(root, 'sys'));
    assert.deepEqual(list, [
      { source: `v4l2:${path.join(root, 'dev', 'video2')}`, name: 'HD USB Camera: HD USB Camera', index: 0 },
      { source: `v4l2:${path.join(root, 'dev', 'video3')}`, name: 'HD USB Camera: HD USB Camera', index: 1 },
      { source: `v4l2:${path.join(root, 'dev', 'video10')}`, name: 'video10' },
    ]);
    assert.deepEqual(listV4l2Devices(path.join(root, 'nope')), []);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('macOS and Windows device list parsers', () => {
  const mac = [
    '[AVFoundation indev @ 0x7f8] AVFoundation video devices:',
    '[AVFoundation indev @ 0x7f8] [0] FaceTime HD Camera',
    '[AVFoundation indev @ 0x7f8] [1] Capture screen 0',
    '[AVFoundation indev @ 0x7f8] AVFoundation audio devices:',
    '[AVFoundation indev @ 0x7f8] [0] MacBook Pro Microphone',
    ': Input/output error',
  ].join('\n');
  assert.deepEqual(parseAvfoundationList(mac), [
    { source: 'avfoundation:0', name: 'FaceTime HD Camera', index: 0 },
    { source: 'avfoundation:1', name: 'Capture screen 0', index: 1 },
  ]);
  const oldWin = [
    '[dshow @ 0000] DirectShow video devices (some may be both video and audio devices)',
    '[dshow @ 0000]  "Integrated Camera"',
    '[dshow @ 0000]     Alternative name "@device_pnp_\\\\?\\usb#vid"',
    '[dshow @ 0000] DirectShow audio devices',
    '[dshow @ 0000]  "Microphone (Realtek)"',
  ].join('\r\n');
  assert.deepEqual(parseDshowList(oldWin), [{ source: 'dshow:Integrated Camera', name: 'Integrated Camera' }]);
  const newWin = ['[dshow @ 01] "USB2.0 HD UVC WebCam" (video)', '[dshow @ 01]   Alternative name "@device_pnp"', '[dshow @ 01] "Mic" (audio)'].join('\n');
  assert.deepEqual(parseDshowList(newWin), [{ source: 'dshow:USB2.0 HD UVC WebCam', name: 'USB2.0 HD UVC WebCam' }]);
});
