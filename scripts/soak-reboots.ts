/**
 * Soak check for per-boot leaks (issue "Hardening", item 5):
 *
 *   node dist/scripts/soak-reboots.js [--boots 1000] [--engine lua53|wasmoon|fengari (default: the default engine)] [--max-growth-mb 5]
 *
 * Boots one device --boots times on a tiny main.lua that calls `rtos.reboot()` after a short
 * `sys.wait`, prints RSS (after a full JS collection) and the engine's live host-function count
 * at boot 1, 100, 500 and the last boot, and exits 1 when RSS grew by more than
 * --max-growth-mb between boot 100 (after warm-up: JIT, wasm heap high-water mark) and the
 * last boot. A figure, not a unit test: RSS depends on the machine.
 *
 * V8 grows its young generation on its own in steps (up to 2 x 16 MB semi-spaces), which
 * shows as a one-time RSS step of ~15 MB somewhere in a long run and is not a leak; the
 * script therefore re-runs itself with a fixed `--max-semi-space-size=1` (pass
 * --no-fixed-young to measure with Node's defaults). The JS heap in use is printed as well.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vmod from 'node:vm';
import { createDevice } from '../runtime/boards/device';
import { DEFAULT_ENGINE, EngineName } from '../runtime/core/engine';
import { LogSink } from '../runtime/core/log';
import { makeProfile } from '../runtime/core/profile';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const BOOTS = Number(arg('--boots', '1000'));
const ENGINE = arg('--engine', DEFAULT_ENGINE) as EngineName;
const MAX_GROWTH_MB = Number(arg('--max-growth-mb', '5'));
const WARM = Math.min(100, BOOTS);

v8.setFlagsFromString('--expose-gc');
const gc = vmod.runInNewContext('gc') as () => void;

function rssMb(): number {
  gc();
  gc();
  return process.memoryUsage().rss / (1024 * 1024);
}

const YOUNG_FLAG = '--max-semi-space-size=1';

async function main(): Promise<number> {
  if (!process.argv.includes('--no-fixed-young') && !process.execArgv.includes(YOUNG_FLAG)) {
    const r = spawnSync(process.execPath, [...process.execArgv, YOUNG_FLAG, ...process.argv.slice(1)], { stdio: 'inherit' });
    return r.status ?? 1;
  }
  if (!Number.isInteger(BOOTS) || BOOTS < 1) {
    console.error('--boots must be a positive integer');
    return 2;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-soak-'));
  try {
    fs.writeFileSync(path.join(dir, 'main.lua'), 'sys.taskInit(function() sys.wait(2) rtos.reboot() end)\nsys.run()\n');
    fs.mkdirSync(path.join(dir, 'data'));
    const dev = createDevice({
      scripts: dir,
      engine: ENGINE,
      profile: makeProfile({ runawayMs: 60000 }),
      log: new LogSink({ stream: null }),
      dataDir: path.join(dir, 'data'),
      reboot: 'restart',
      maxBoots: BOOTS,
    });
    const marks = new Set([1, WARM, Math.min(500, BOOTS), BOOTS]);
    const rss = new Map<number, number>();
    const report = (boot: number) => {
      const mb = rssMb();
      rss.set(boot, mb);
      const fns = dev.engine?.hostFunctionCount();
      const heap = process.memoryUsage().heapUsed / (1024 * 1024);
      console.log(`boot ${String(boot).padStart(5)}: RSS ${mb.toFixed(1)} MB, JS heap ${heap.toFixed(1)} MB, live host functions ${fns ?? 'n/a (fengari)'}`);
    };
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      dev.on('boot', (n: number) => {
        // measure once the previous boot's VM has been closed (it is freed on setImmediate)
        if (marks.has(n)) setImmediate(() => report(n));
      });
      dev.on('stopped', () => setImmediate(resolve));
      void dev.start();
    });
    dev.dispose();
    const secs = (performance.now() - t0) / 1000;
    const growth = (rss.get(BOOTS) as number) - (rss.get(WARM) as number);
    console.log(`${ENGINE}: ${dev.boots} boots in ${secs.toFixed(1)} s; RSS growth boot ${WARM} -> ${BOOTS}: ${growth.toFixed(1)} MB (limit ${MAX_GROWTH_MB} MB)`);
    if (dev.boots !== BOOTS) {
      console.error(`expected ${BOOTS} boots, got ${dev.boots}`);
      return 1;
    }
    if (growth > MAX_GROWTH_MB) {
      console.error(`FAIL: RSS grew ${growth.toFixed(1)} MB after warm-up`);
      return 1;
    }
    console.log('PASS');
    return 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`soak-reboots: ${err.message}`);
    process.exit(1);
  },
);
