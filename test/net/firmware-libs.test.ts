/**
 * The firmware's own Luatools libraries (exnetif, dnsproxy, dhcpsrv, udpsrv, httpdns) dropped into
 * the demo's script folder must run the demo unchanged: a user's copy of a library wins over the
 * runtime's runtime/lua/ version, so whatever LuatOS API those copies touch on the demo path must
 * be there. The project does not ship LuatOS's code, so this runs only when LUATOS_FIRMWARE_LIBS
 * points at a folder holding the five firmware files (script/libs/*.lua of the LuatOS repository).
 *
 * Same CLI run as test/demo/demo.test.ts (local platform, Wi-Fi model), stopped at the RTMP URL.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { tempDir } from '../helpers/tmp';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const LIBS = ['exnetif.lua', 'dnsproxy.lua', 'dhcpsrv.lua', 'udpsrv.lua', 'httpdns.lua'];

const EXPECTED_IN_ORDER = [
  /I\/user\.main rtmp_demo 001\.000\.000/,
  /I\/user\.netdrv_wifi\.ip_ready_func IP_READY \S+ 255\.255\.255\.0 \S+ nil/,
  // dnsproxy's IP_READY subscriber: "开始监听" in the current library, "开启DNS代理" in the
  // 2024 one (script/libs/dnsproxy.lua with dnsproxy.on_ip_ready)
  /I\/user\.dnsproxy (开始监听|开启DNS代理)/,
  /I\/user\.打印设备的ID号 C8C2C68C5DEA/,
  /I\/user\.打印的URL http:\/\/video\.luatos\.com:10030\/api-system\/deviceVideo\/get\/C8C2C68C5DEA/,
  /I\/user\.打印的请求code 200/,
  /I\/user\.打印的请求body \{"msg":"操作成功","code":200,"data":\{"urlList":\["rtmp:\/\/127\.0\.0\.1:\d+\/live\/C8C2C68C5DEA"\],"deviceId":"C8C2C68C5DEA","deviceChannels":1\}\}/,
  /I\/user\.请求得到的RTMP地址 rtmp:\/\/127\.0\.0\.1:\d+\/live\/C8C2C68C5DEA/,
];

/**
 * Lines only the firmware libraries print (ours print none of them): the load-time version lines
 * of the 2026 libraries, or the 2024 dnsproxy's IP_READY line. One of them proves the copies in
 * the script folder were the ones loaded.
 */
const FIRMWARE_ONLY = /D\/user\.(exnetif|dnsproxy|dhcpsrv|udpsrv|httpdns) version -> |I\/user\.dnsproxy 开启DNS代理/;

async function runDemo(dir: string, engine: string): Promise<{ code: number | null; out: string; err: string }> {
  const state = tempDir('luatos-fwlibs-state-');
  try {
    const args = ['bin/luatos.js', 'run', dir, '--engine', engine, '--profile', 'demo/device.json', '--platform', 'local', '--state', state, '--expect', '请求得到的RTMP地址', '--timeout', '40'];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60000);
    const code: number | null = await new Promise((r) => child.on('close', r));
    clearTimeout(killer);
    return { code, out, err };
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
}

test('the demo runs with the firmware exnetif/dnsproxy/dhcpsrv/udpsrv/httpdns (needs LUATOS_FIRMWARE_LIBS)', async (t) => {
  const src = process.env.LUATOS_FIRMWARE_LIBS;
  if (!src || !LIBS.every((f) => fs.existsSync(path.join(src, f)))) {
    t.skip(`LUATOS_FIRMWARE_LIBS not set or incomplete (${LIBS.join(', ')}: the firmware libraries are not redistributed with this project)`);
    return;
  }
  for (const f of LIBS) {
    const ours = path.join(ROOT, 'runtime', 'lua', f);
    if (fs.existsSync(ours)) {
      assert.notDeepEqual(fs.readFileSync(path.join(src, f)), fs.readFileSync(ours), `${f} in LUATOS_FIRMWARE_LIBS is luatos-pc's own copy`);
    }
  }
  const dir = tempDir('luatos-fwlibs-');
  try {
    for (const f of fs.readdirSync(path.join(ROOT, 'demo')).filter((n) => n.endsWith('.lua'))) {
      fs.copyFileSync(path.join(ROOT, 'demo', f), path.join(dir, f));
    }
    for (const f of LIBS) fs.copyFileSync(path.join(src, f), path.join(dir, f));

    for (const engine of ENGINE_NAMES) {
      const { code, out, err } = await runDemo(dir, engine);
      const lines = out.split('\n');
      assert.equal(code, 0, `${engine}: exit ${code}\n${err}\n${lines.slice(-30).join('\n')}`);
      let at = -1;
      for (const re of EXPECTED_IN_ORDER) {
        const next = lines.findIndex((l, i) => i > at && re.test(l));
        assert.ok(next > at, `${engine}: not found after line ${at}: ${re}\n${lines.slice(Math.max(0, at - 3), at + 30).join('\n')}`);
        at = next;
      }
      assert.ok(lines.some((l) => FIRMWARE_ONLY.test(l)), `${engine}: no line shows that the firmware libraries were loaded (${FIRMWARE_ONLY})`);
      const missing = lines.filter((l) => /is not implemented by this runtime/.test(l));
      assert.deepEqual(missing, [], `${engine}: the firmware libraries touch LuatOS APIs the runtime lacks`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
