/**
 * `bench:rtmp` row "Lua-driven publish, device in a worker vs in-process": the demo's path (a Lua
 * script: Wi-Fi up, camera.init, rtmp.create/connect/start; the camera ffmpeg feeds our
 * publisher) with the Device on Node's main thread (as tests construct it) and in a worker
 * thread (runtime/host/worker/device-host.ts, as `luatos run` runs it). The media path stays inside the
 * device's thread either way; what the boundary adds is the heartbeat at every Lua resume and the
 * log records crossing to the main thread.
 *
 * Measured: CPU seconds of this Node process (process.cpuUsage(): all its threads; the ffmpeg
 * child is not counted) per stream-minute over a steady window after PUBLISHING + warm-up. Each
 * run is a fresh Node process (a worker is always a fresh V8 isolate; in-process runs after the
 * first would otherwise reuse warmed code); runs alternate in-process / worker so load changes hit
 * both alike; medians and the ratio are printed.
 *
 *   node dist/scripts/bench/lua-publish.js [--seconds 15] [--rounds 3]   (or bench-rtmp --lua-publish-only)
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDevice } from '../../runtime/boards/device';
import { DEFAULT_ENGINE } from '../../runtime/core/engine';
import { DeviceHost } from '../../runtime/host/worker/device-host';
import { LogSink } from '../../runtime/core/log';
import { makeProfile } from '../../runtime/core/profile';
import { createNetworkFromOptions } from '../../runtime/net/options';
import { RtmpSink } from './sink';
import { delay, median } from './util';

const WARM_S = 3;

function script(port: number): string {
  return `
sys.taskInit(function()
  wlan.init()
  wlan.connect("lab", "secret")
  sys.waitUntil("IP_READY", 15000)
  camera.config(0, camera.CONF_UVC_FPS, 15)
  camera.init({id = camera.USB, sensor_width = 1280, sensor_height = 720, usb_port = 1})
  camera.start(camera.USB)
  local c = rtmp.create("rtmp://127.0.0.1:${port}/live/bench")
  c:setCallback(function(state) if state == rtmp.STATE_PUBLISHING then log.info("bench", "PUBLISHING") end end)
  c:connect()
  c:start()
end)
sys.run()
`;
}

/** One run: CPU s per stream-minute of this process over `seconds` of steady publishing. */
async function once(mode: 'in-process' | 'worker', port: number, seconds: number): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-bench-pub-'));
  try {
    fs.writeFileSync(path.join(dir, 'main.lua'), script(port));
    const sink = new LogSink({ stream: process.env.BENCH_DEBUG ? process.stderr : null });
    const profile = makeProfile({ runawayMs: 60000, camera: { source: 'testsrc' } });
    const publishing = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${mode}: no PUBLISHING within 30 s`)), 30_000);
      sink.on((r) => {
        if (r.payload.includes('bench PUBLISHING')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    let stop: () => Promise<void>;
    if (mode === 'in-process') {
      const dev = createDevice({ scripts: dir, engine: DEFAULT_ENGINE, profile, log: sink, dataDir: path.join(dir, 'data'), reboot: 'exit', network: createNetworkFromOptions(profile, {}) });
      void dev.start();
      stop = async () => dev.dispose();
    } else {
      const host = new DeviceHost({ scripts: dir, libDirs: [], engine: DEFAULT_ENGINE, profile, log: sink, dataDir: path.join(dir, 'data'), reboot: 'exit', maxBoots: 0, clock: 'real', coverage: false, net: {}, status: false });
      await host.start();
      stop = () => host.stop();
    }
    try {
      await publishing;
      await delay(WARM_S * 1000);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await delay(seconds * 1000);
      const c = process.cpuUsage(c0);
      const wall = (performance.now() - t0) / 1000;
      return ((c.user + c.system) / 1e6) * (60 / wall);
    } finally {
      await stop();
      await delay(300); // the camera child ends
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One run in a fresh Node process (as `luatos run` starts): no V8 code warmed by earlier runs. */
function fresh(mode: 'in-process' | 'worker', port: number, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [__filename, '--child', mode, String(port), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('close', (code) => {
      const m = /^cpu (\S+)$/m.exec(out);
      if (code === 0 && m) resolve(Number(m[1]));
      else reject(new Error(`${mode} run failed (exit ${code}): ${out}`));
    });
  });
}

export async function luaPublishRows(seconds = 15, rounds = 3): Promise<void> {
  const sink = await RtmpSink.start();
  try {
    const inProc: number[] = [];
    const inWorker: number[] = [];
    for (let i = 0; i < rounds; i++) {
      inProc.push(await fresh('in-process', sink.port, seconds));
      inWorker.push(await fresh('worker', sink.port, seconds));
    }
    const a = median(inProc);
    const b = median(inWorker);
    console.log(`\nLua-driven publish (demo path: camera testsrc 1280x720@15 → rtmp binding → local sink), ${seconds} s steady window, median of ${rounds}:`);
    console.log(`  CPU s per stream-minute of the Node process, device in-process: ${a.toFixed(3)}  [${inProc.map((x) => x.toFixed(3)).join(', ')}]`);
    console.log(`  CPU s per stream-minute of the Node process, device in a worker: ${b.toFixed(3)}  [${inWorker.map((x) => x.toFixed(3)).join(', ')}]`);
    console.log(`  worker/in-process: ${(b / a).toFixed(2)}`);
  } finally {
    await sink.stop();
  }
}

if (require.main === module && process.argv[2] === '--child') {
  once(process.argv[3] as 'in-process' | 'worker', Number(process.argv[4]), Number(process.argv[5])).then(
    (cpu) => {
      console.log(`cpu ${cpu}`);
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
} else if (require.main === module) {
  const arg = (name: string, def: number) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : def;
  };
  luaPublishRows(arg('--seconds', 15), arg('--rounds', 3)).then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
