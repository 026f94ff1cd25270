/**
 * End to end: the demo folder, the local platform (device API + node-media-server ingest), the
 * Wi-Fi model and the ffmpeg camera, through the real CLI — what `npm start` runs, minus --web.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { tempDir } from '../helpers/tmp';

const ROOT = path.resolve(__dirname, '..', '..', '..');

const EXPECTED_IN_ORDER = [
  /I\/user\.main rtmp_demo 001\.000\.000/,
  /I\/user\.netdrv_wifi\.ip_ready_func IP_READY \S+ 255\.255\.255\.0 \S+ nil/,
  /I\/user\.dnsproxy 开始监听/,
  /I\/user\.打印设备的ID号 C8C2C68C5DEA/,
  /I\/user\.打印的URL http:\/\/video\.luatos\.com:10030\/api-system\/deviceVideo\/get\/C8C2C68C5DEA/,
  /I\/user\.打印的请求code 200/,
  /I\/user\.打印的请求body \{"msg":"操作成功","code":200,"data":\{"urlList":\["rtmp:\/\/127\.0\.0\.1:\d+\/live\/C8C2C68C5DEA"\],"deviceId":"C8C2C68C5DEA","deviceChannels":1\}\}/,
  /I\/user\.请求得到的RTMP地址 rtmp:\/\/127\.0\.0\.1:\d+\/live\/C8C2C68C5DEA/,
  /I\/user\.摄像头初始化 0/,
  /I\/user\.开始连接到推流服务器\.\.\./,
  /rtmp_push:RTMP: State changed from 0 to 1/,
  /I\/user\.rtmp 开始推流\.\.\./,
  /I\/user\.rtmp状态变化 1/,
  /I\/user\.rtmp状态变化 2/,
  /I\/user\.rtmp状态变化 3/,
  /I\/user\.rtmp状态变化 已连接到推流服务器/,
  /I\/user\.rtmp状态变化 4/,
  /I\/user\.rtmp状态变化 已开始推流/,
  /rtmp_push:RTMP: Sending IDR frame, len=\d+/,
  /rtmp_push:RTMP stats: total=\d+ kB packets=\d+ I=\d+ \(\d+kB\) P=\d+ \(\d+kB\) dropped=\d+ \(\d+kB\) queue=\d+ avg=\d+ kbps win=\d+ kbps/,
];

test('the demo joins Wi-Fi, gets its RTMP URL from the local platform and publishes (the reference log lines, in order)', async () => {
  const state = tempDir('luatos-demo-');
  const args = ['bin/luatos.js', 'run', 'demo', '--profile', 'demo/device.json', '--platform', 'local', '--state', state, '--expect', 'RTMP stats:', '--timeout', '40'];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60000);
  const code: number | null = await new Promise((r) => child.on('close', r));
  clearTimeout(killer);
  assert.equal(code, 0, `exit ${code}\n${err}\n${out.split('\n').slice(-30).join('\n')}`);
  const lines = out.split('\n');
  let at = -1;
  for (const re of EXPECTED_IN_ORDER) {
    const next = lines.findIndex((l, i) => i > at && re.test(l));
    assert.ok(next > at, `not found after line ${at}: ${re}\n${lines.slice(Math.max(0, at - 3), at + 30).join('\n')}`);
    at = next;
  }
  // every 2 s an IDR (15 fps, PFRAME_NUMS 29)
  const idrMs = lines.filter((l) => /Sending IDR frame/.test(l)).map((l) => Number(/luat:I\((\d+)\)/.exec(l)?.[1]));
  assert.ok(idrMs.length >= 3, `only ${idrMs.length} IDR frames`);
  for (let i = 1; i < idrMs.length; i++) {
    const gap = idrMs[i] - idrMs[i - 1];
    assert.ok(gap > 1500 && gap < 2600, `IDR gap ${gap} ms`);
  }
});
