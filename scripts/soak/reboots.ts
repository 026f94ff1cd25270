/**
 * Reboot soak (part of `npm run soak`; used only when scripts/soak-reboots.ts, written on
 * another branch, is not built): one Device boots a script N times (default 1,000); every boot
 * does a little of everything a script does (tasks, timers, json, zbuff, crypto, string
 * extensions, sys.publish/subscribe, a table of garbage) and then calls `rtos.reboot()`.
 *
 * Requirement: RSS flat — after a warm-up (the first 10 % of boots), the RSS of the process
 * (after a full GC; run with `node --expose-gc`) may move by at most ±10 MB up to the last
 * boot. The number of active Node handles must not grow either (leaked timers or sockets).
 * Prints RSS at boot 1, after warm-up, at the middle and at the end.
 *
 *   node --expose-gc dist/scripts/soak/reboots.js --boots 1000 --engine wasmoon
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Device } from '../../runtime/device';
import { EngineName } from '../../runtime/engine';
import { LogSink } from '../../runtime/log';
import { makeProfile } from '../../runtime/profile';
import { argNum, argStr, Failure, fmtMB, printResult, Progress, rssMB } from './common';

const BOOTS = argNum('--boots', 1000);
const ENGINE = argStr('--engine', 'wasmoon') as EngineName;
const MAX_SEC = argNum('--max-sec', 600);
const TOLERANCE_MB = argNum('--tolerance-mb', 10);
const progress = new Progress(argStr('--progress'));

const MAIN = `
local boots = 0
sys.taskInit(function()
  local t = {}
  for i = 1, 2000 do t[i] = { i, tostring(i), { x = i } } end
  local s = json.encode({ a = t[1], b = "boot", c = { 1, 2, 3 } })
  local v = json.decode(s)
  if zbuff then
    local z = zbuff.create(4096)
    z:write(string.rep("x", 1000))
    z:seek(0)
    z:read(100)
  end
  if crypto then crypto.md5(s); crypto.sha256(s) end
  local h = string.toHex and string.toHex(s)
  sys.subscribe("SOAK_EVT", function() end)
  sys.publish("SOAK_EVT", 1, 2)
  local id = sys.timerLoopStart(function() end, 5)
  sys.wait(10)
  sys.timerStop(id)
  sys.timerStart(function() end, 100000) -- still pending at the reboot
  log.info("soak", "boot done", #t, v and v.b)
  rtos.reboot()
end)
sys.taskInit(function()
  sys.waitUntil("NEVER", 100000) -- a task blocked at the reboot
end)
sys.run()
`;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

function handles(): number {
  return (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-soak-reboot-'));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-soak-data-'));
  fs.writeFileSync(path.join(dir, 'main.lua'), MAIN);
  const sink = new LogSink({ stream: null });
  const device = new Device({ scripts: dir, engine: ENGINE, profile: makeProfile({ exitRebootDelayMs: 0 }, {}), log: sink, dataDir, reboot: 'restart', maxBoots: BOOTS });
  const failures: Failure[] = [];
  const warm = Math.max(1, Math.round(BOOTS / 10));
  const marks = new Map<number, { rss?: number; handles: number }>();
  const at = new Set([1, warm, Math.round(BOOTS / 2), BOOTS]);
  let bootDone = 0;
  let vmErrors = 0;
  let lastError = '';
  const t0 = Date.now();
  sink.on((r, text) => {
    if (text.includes('boot done')) bootDone++;
    if (r.kind === 'E' && /Luat:|error|coroutine\.resume/i.test(text) && !/reboot in/.test(text)) {
      vmErrors++;
      lastError = text;
    }
  });
  device.on('boot', (n: number) => progress.set(`reboots ${ENGINE} boot=${n}`));
  device.on('vmexit', (_x, n: number) => {
    if (at.has(n)) {
      // let the closed VM's setImmediate(close) run, then measure
      setImmediate(() => {
        gc();
        marks.set(n, { rss: rssMB(), handles: handles() });
      });
    }
    if (Date.now() - t0 > MAX_SEC * 1000) device.stop();
  });
  await new Promise<void>((resolve, reject) => {
    device.on('stopped', () => setImmediate(resolve));
    device.start().catch(reject);
  });
  device.dispose();
  await new Promise((r) => setTimeout(r, 50));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
  const sec = (Date.now() - t0) / 1000;
  const boots = device.boots;
  if (boots < BOOTS) failures.push({ kind: 'incomplete', detail: `${ENGINE}: ${boots} of ${BOOTS} boots within ${MAX_SEC} s` });
  if (bootDone < boots) failures.push({ kind: 'invariant', detail: `${ENGINE}: only ${bootDone} of ${boots} boots reached 'boot done' (last error: ${lastError.slice(0, 200)})` });
  if (vmErrors) failures.push({ kind: 'vm-death', detail: `${ENGINE}: ${vmErrors} VM error lines, last: ${lastError.slice(0, 200)}` });
  const mWarm = marks.get(warm);
  const mEnd = marks.get(BOOTS);
  let drift: number | undefined;
  if (mWarm?.rss !== undefined && mEnd?.rss !== undefined) {
    drift = mEnd.rss - mWarm.rss;
    if (Math.abs(drift) > TOLERANCE_MB) failures.push({ kind: 'rss-growth', detail: `${ENGINE}: RSS moved ${drift.toFixed(1)} MB between boot ${warm} and boot ${BOOTS} (allowed ±${TOLERANCE_MB} MB)` });
  }
  if (mWarm && mEnd && mEnd.handles > mWarm.handles + 2) failures.push({ kind: 'handle-leak', detail: `${ENGINE}: active Node handles ${mWarm.handles} at boot ${warm} → ${mEnd.handles} at boot ${BOOTS}` });
  const fmtMark = (n: number) => {
    const m = marks.get(n);
    return m ? `${fmtMB(m.rss)}, ${m.handles} handles` : '—';
  };
  printResult({
    part: `reboots/${ENGINE}`,
    rows: [
      ['boots', `${boots} in ${sec.toFixed(1)} s (${((sec * 1000) / Math.max(1, boots)).toFixed(1)} ms/boot)`],
      [`RSS at boot 1 / ${warm} (warm) / ${Math.round(BOOTS / 2)} / ${BOOTS}`, [1, warm, Math.round(BOOTS / 2), BOOTS].map(fmtMark).join(' | ')],
      ['RSS drift after warm-up', drift === undefined ? '—' : `${drift >= 0 ? '+' : ''}${drift.toFixed(1)} MB (allowed ±${TOLERANCE_MB} MB)${(globalThis as { gc?: unknown }).gc ? '' : ' (no --expose-gc: measured without a forced GC)'}`],
    ],
    failures,
  });
  progress.close();
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`reboot soak: ${(e as Error)?.stack ?? e}\n`);
      process.exit(3);
    },
  );
}
