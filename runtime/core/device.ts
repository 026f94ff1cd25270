/**
 * One simulated device (an Air8101 by default): its profile, clock, file system and log, and
 * the VM of the current boot. It boots the script folder the way the firmware does, counts
 * boots and applies the reboot rules when the VM exits.
 *
 * There are no module-level singletons: everything a binding needs hangs off this object
 * (`vm.device`), so several devices can share one process.
 */
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import { Clock, RealClock, TimerHandle } from './clock';
import { createEngine, DEFAULT_ENGINE, EngineName } from './engine';
import { LuaEngine } from './engine/types';
import { LEVEL_RANK, LogKind, LogLevel, LogRecord, LogSink } from './log';
import { DeviceProfile, makeProfile } from './profile';
import { Vfs } from './fs/vfs';
import { FaultRegistry } from './faults';
import { ApiCoverage, type ApiCatalog } from './coverage';
import { Vm, VmExit, type DeviceParts, type StatusSections, type VmDebugger, type VmHost } from './vm/vm';

export { DEFAULT_ENGINE, ENGINE_NAMES, type EngineName } from './engine';
export type { VmExit, DeviceParts, StatusSections } from './vm/vm';

/** A timer of the running VM (sys.wait, sys.timerStart, ...): id, duration, repeat count, when it was armed (clock ms). */
export type LuaTimer = ReturnType<Vm['timerList']>[number];

/** Opens modules into a fresh VM at every boot (the LuatOS API: luatos-api's installApi). */
export type Installer = (vm: Vm) => void;

export const BUNDLED_LUA_DIR = path.resolve(__dirname, '..', '..', '..', 'runtime', 'lua'); // path: dist/runtime/core -> runtime/lua
/** longest wait for the old boot's children (ffmpeg: SIGTERM, SIGKILL after 1.5 s) before a reboot */
const DRAIN_CAP_MS = 3000;

export interface DeviceOptions {
  /** the script folder, or a list of script files */
  scripts: string | string[];
  libDirs?: string[];
  engine?: EngineName;
  profile?: DeviceProfile;
  clock?: Clock;
  log?: LogSink;
  /** writable data directory for `/` */
  dataDir: string;
  /** what a VM exit does: reboot (device behaviour) or end the run (tests) */
  reboot?: 'restart' | 'exit';
  /** stop after this many boots (a reboot loop guard); 0 = unlimited */
  maxBoots?: number;
  /**
   * What the layers above the core attach (the network: `parts.net`); the device keeps them as
   * its own properties (`device.net`). runtime/boards/device.ts `createDevice` fills them.
   */
  parts: DeviceParts;
  /** run at every boot, in order, before the board's boot hooks: the modules the VM gets */
  install?: Installer[];
  /** record API use (luatos run --coverage) */
  coverage?: boolean;
  /** what the coverage report knows of the API (runtime/boards/device.ts gives luatos-api's catalog) */
  apiCatalog?: ApiCatalog;
  /**
   * Process-level services several devices share (a fleet's camera encoder pool, keyed by
   * name). Passed explicitly so there is no module-level singleton; parts look their service up
   * by key and work alone when it is absent.
   */
  shared?: ReadonlyMap<string, unknown>;
  /** an engine instance of its own instead of the process's shared one (bench:fleet measures both) */
  isolatedEngine?: boolean;
}

export interface DeviceEvents {
  boot: [bootNo: number];
  vmexit: [exit: VmExit, bootNo: number];
  /** the device stopped for good (reboot policy 'exit', max boots, stop()) */
  stopped: [reason: StopReason];
}

export interface StopReason {
  kind: 'exit' | 'max-boots' | 'stopped' | 'load-error' | 'no-main';
  exit?: VmExit;
  /** the process exit code the board asks for (boards with `exitOnReset`: the PC simulator) */
  code?: number;
}

// the parts declared by other layers (DeviceParts) are the Device's own properties
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type -- see DeviceParts
export interface Device extends DeviceParts {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see DeviceParts
export class Device extends EventEmitter implements VmHost {
  readonly profile: DeviceProfile;
  readonly clock: Clock;
  readonly logSink: LogSink;
  readonly vfs: Vfs;
  readonly opts: DeviceOptions;
  engine: LuaEngine | null = null;
  vm: Vm | null = null;
  boots = 0;
  private rebootTimer: TimerHandle | null = null;
  /** the `reboot` fault (the RESET key) ended the VM: logged as such, not as a watchdog reset */
  private resetKeyPressed = false;
  private stoppedFlag = false;
  /** boot time of the device (for ms-since-boot when no VM runs) */
  private bootTime: number;
  /** watchdog state (wdt.*) */
  wdt: { timeoutMs: number; timer: TimerHandle | null } | null = null;
  /** the USB camera is pulled out (fault injection; survives reboots like hardware does) */
  cameraUnplugged = false;
  /** API use, when --coverage asked for it */
  coverage: ApiCoverage | null = null;
  /** services shared with other devices of the process (DeviceOptions.shared); empty alone */
  readonly shared: ReadonlyMap<string, unknown>;
  /** fault injection points registered by the parts of the simulated world */
  readonly faults = new FaultRegistry();
  /** current log level set by log.setLevel (gates Lua and firmware lines) */
  logLevel = 1;
  /**
   * Called with true when a Lua resume begins and false when it ends (runtime/host/worker/heartbeat.ts:
   * the supervisor on Node's main thread sees a VM stuck in one call). Null: nobody watches.
   */
  resumeObserver: ((running: boolean) => void) | null = null;
  /** a debugger (luatos run --inspect, runtime/core/debug/core.ts): attached to every boot's VM */
  debugger: VmDebugger | null = null;
  /**
   * What the board brings to every boot's VM (runtime/boards/): run after the standard API is
   * installed, before boot.lua (e.g. the PC simulator's `os.exit`).
   */
  readonly bootHooks: Array<(vm: Vm) => void> = [];
  /**
   * The board ends the run where a device reboots (the PC simulator: `rtos.reboot(code)` and
   * `os.exit(code)` end the process with code, a VM exit ends it with 1 after
   * `exitRebootDelayMs`). The device then stops with `StopReason.code`.
   */
  exitOnReset = false;
  /** the status sections the bindings contribute (addStatusSection) */
  private readonly statusReaders = new Map<keyof StatusSections, () => unknown>();

  constructor(opts: DeviceOptions) {
    super();
    this.opts = opts;
    this.shared = opts.shared ?? new Map();
    this.profile = opts.profile ?? makeProfile();
    this.clock = opts.clock ?? new RealClock();
    this.logSink = opts.log ?? new LogSink();
    this.vfs = new Vfs({ scripts: opts.scripts, libDirs: opts.libDirs, bundledDirs: [BUNDLED_LUA_DIR], dataDir: opts.dataDir });
    this.bootTime = this.clock.now();
    Object.assign(this, opts.parts);
    if (opts.coverage) this.coverage = new ApiCoverage(opts.apiCatalog);
    // one wording for the button, its tooltip and the log: the RESET key (the firmware's
    // reset-reason table calls it "RESET键"; the exact table of the Air8101 build is unsure)
    this.faults.register({ name: 'reboot', usage: '', description: 'reboot as pressing the RESET key does', actions: { '': 'reboot the device as pressing its RESET key (RESET键) does' } }, () => {
      this.resetKeyPressed = true;
      this.reboot('RESET key');
    });
  }

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  uptime(): number {
    return this.clock.now() - (this.vm ? this.vm.bootTime : this.bootTime);
  }

  /** A single run of Lua code longer than this ends the VM (the hardware watchdog if armed). */
  runawayBudgetMs(): number {
    return this.wdt ? Math.min(this.wdt.timeoutMs, this.profile.runawayMs) : this.profile.runawayMs;
  }

  // ------------------------------------------------------------------ status (read-only)

  /** the VM of the current boot while it runs */
  private liveVm(): Vm | null {
    return this.vm && !this.vm.isDead ? this.vm : null;
  }

  /** The Lua heap of the running VM in bytes (null: no VM runs, or the engine does not tell). */
  luaHeapBytes(): number | null {
    return this.liveVm()?.luaHeapBytes() ?? null;
  }

  /** The boot number of the running VM (null: no VM runs). */
  liveBoot(): number | null {
    return this.liveVm()?.bootNo ?? null;
  }

  /** The timers of the running VM (none when no VM runs). */
  luaTimers(): LuaTimer[] {
    return this.liveVm()?.timerList() ?? [];
  }

  addStatusSection<K extends keyof StatusSections>(name: K, read: () => StatusSections[K] | undefined): () => void {
    this.statusReaders.set(name, read);
    return () => {
      if (this.statusReaders.get(name) === read) this.statusReaders.delete(name);
    };
  }

  /** The snapshot a binding contributes under `name` (undefined: none); reading changes nothing. */
  statusSection<K extends keyof StatusSections>(name: K): StatusSections[K] | undefined {
    const read = this.statusReaders.get(name);
    return read ? (read() as StatusSections[K] | undefined) : undefined;
  }

  /** Stop the reminder timer of a missing main.lua (used when the process ends). */
  dispose(): void {
    this.clock.clearTimer(this.noMainTimer);
    this.stop();
  }

  // ------------------------------------------------------------------ logging

  private record(kind: LogKind, payload: Buffer, module?: string): LogRecord {
    return { kind, ms: this.uptime(), wall: this.clock.wallNow(), module, payload, boot: this.boots };
  }

  /** A firmware line `luat:<L>(ms):<module>:<message>`; log.setLevel gates it as on the device. */
  logRuntime(level: LogLevel, module: string, message: string, _vm?: Vm): void {
    if (LEVEL_RANK[level] < this.logLevel) return;
    this.logSink.write(this.record(level, Buffer.from(message), module));
  }

  /** Lua output (print / log.*): a `luat:U(ms):` record with raw bytes. */
  logUser(payload: Buffer): void {
    if (this.vm?.exiting) return;
    this.logSink.write(this.record('U', payload));
  }

  // ------------------------------------------------------------------ lifecycle

  /** Boot (or reboot) the device. */
  async start(): Promise<void> {
    if (this.stoppedFlag) return;
    if (!this.engine || this.engine.broken) this.engine = await this.newEngine();
    this.bootOnce();
  }

  /** The engine this device asked for (DeviceOptions.engine, isolatedEngine): shared or its own. */
  private newEngine(): Promise<LuaEngine> {
    return createEngine(this.opts.engine ?? DEFAULT_ENGINE, { isolated: this.opts.isolatedEngine });
  }

  /**
   * The next boot. An engine that trapped (wasm RuntimeError) is never entered again: the boot
   * waits for a fresh instance instead.
   */
  private nextBoot(): void {
    if (this.stoppedFlag) return;
    if (!this.engine?.broken) {
      this.bootOnce();
      return;
    }
    this.engine = null;
    this.newEngine().then(
      (e) => {
        if (this.stoppedFlag) return;
        this.engine = e;
        this.bootOnce();
      },
      (err: Error) => {
        this.logRuntime('E', 'main', `cannot start a fresh Lua engine: ${err.message}`);
        this.stop({ kind: 'load-error' });
      },
    );
  }

  private bootOnce(): void {
    if (this.stoppedFlag) return;
    const engine = this.engine as LuaEngine;
    this.resetKeyPressed = false;
    this.boots++;
    this.bootTime = this.clock.now();
    let vm: Vm;
    try {
      vm = new Vm(this, engine, this.boots);
    } catch (e) {
      // luaL_newstate failed (out of memory, or the engine trapped): no Node stack trace
      this.logRuntime('E', 'main', `Lua VM could not start: ${(e as Error).message}`);
      this.stop({ kind: 'load-error' });
      return;
    }
    this.vm = vm;
    this.emit('boot', this.boots);
    try {
      for (const install of this.opts.install ?? []) install(vm);
      for (const hook of this.bootHooks) hook(vm);
    } catch (e) {
      this.logRuntime('E', 'main', `runtime setup failed: ${(e as Error).message}`);
      this.stop({ kind: 'load-error' });
      return;
    }
    const boot = this.vfs.readFile('/lua/boot.lua');
    if (!boot) throw new Error('runtime is incomplete: runtime/lua/boot.lua is missing');
    vm.start(boot, '@boot.lua');
  }

  /** Called by the VM when it ends. Logs the firmware's exit lines and applies the reboot rule. */
  onVmExit(vm: Vm, x: VmExit): void {
    if (vm !== this.vm) return;
    const delay = this.profile.exitRebootDelayMs;
    switch (x.kind) {
      case 'error':
      case 'load':
        this.logRuntime('E', 'main', 'Luat: ');
        this.logRuntime('E', 'main', x.message ?? '');
        this.logRuntime('E', 'main', `Lua VM exit!! reboot in ${delay}ms`);
        break;
      case 'returned':
        this.logRuntime('E', 'main', `Lua VM exit!! reboot in ${delay}ms`);
        break;
      case 'watchdog':
        if (this.resetKeyPressed) {
          this.logRuntime('I', 'main', 'RESET key (RESET键) pressed, rebooting');
          break;
        }
        this.logRuntime('E', 'wdt', x.message ?? 'watchdog timeout');
        this.logRuntime('E', 'main', 'watchdog reset, rebooting');
        break;
      case 'reboot':
        if (!this.exitOnReset) this.logRuntime('I', 'rtos', `rtos.reboot(${x.code ?? ''}) called, rebooting`);
        break;
      case 'exit': // os.exit: the process just ends, no firmware line
      case 'stopped':
        break;
    }
    this.emit('vmexit', x, vm.bootNo);
    this.stopWdt();
    if (this.noMainFlag) {
      setImmediate(() => vm.close());
      this.startNoMainReminder();
      this.stop({ kind: 'no-main', exit: x }, true);
      return;
    }
    // free the Lua state once the current call stack has unwound
    setImmediate(() => vm.close());
    if (this.stoppedFlag || x.kind === 'stopped') return;
    if (this.exitOnReset) {
      // rtos.reboot(code) / os.exit(code): exit(code) at once; a watchdog or host reset: exit(1)
      // at once; a VM exit (error, main returned): exit(1) after the "reboot in" delay
      if (x.kind === 'exit' || x.kind === 'reboot') this.stop({ kind: 'exit', exit: x, code: x.code ?? 0 });
      else if (x.kind === 'watchdog') this.stop({ kind: 'exit', exit: x, code: 1 });
      else {
        this.rebootTimer = this.clock.setTimer(delay, () => {
          this.rebootTimer = null;
          this.stop({ kind: x.kind === 'load' ? 'load-error' : 'exit', exit: x, code: 1 });
        });
      }
      return;
    }
    if (this.opts.reboot === 'exit') {
      this.stop({ kind: x.kind === 'load' ? 'load-error' : 'exit', exit: x });
      return;
    }
    const max = this.opts.maxBoots ?? 0;
    if (max > 0 && this.boots >= max) {
      this.logRuntime('W', 'main', `boot limit reached (--max-boots ${max}), not rebooting`);
      this.stop({ kind: 'max-boots', exit: x });
      return;
    }
    // rtos.reboot and watchdog resets are immediate; a VM exit waits like the firmware
    const wait = x.kind === 'reboot' || x.kind === 'watchdog' ? 0 : delay;
    this.rebootTimer = this.clock.setTimer(wait, () => {
      this.rebootTimer = null;
      // the old boot's children stop (and log their last lines) before the new boot logs
      // anything; bounded, so a child that will not die cannot hold the device back
      let cap: NodeJS.Timeout | undefined;
      const bounded = new Promise<void>((resolve) => (cap = setTimeout(resolve, DRAIN_CAP_MS)));
      // real waiting: a virtual clock must not jump ahead meanwhile
      const release = this.clock.hold('the old boot stops its children');
      void Promise.race([vm.drained, bounded]).then(() => {
        clearTimeout(cap);
        release();
        if (this.stoppedFlag || this.vm !== vm || this.rebootTimer !== null) return;
        this.nextBoot();
      });
    });
  }

  /** Reboot from the host (fault injection, web console): like pressing reset. */
  reboot(reason = 'host reset'): void {
    if (this.stoppedFlag) return;
    if (this.vm && !this.vm.isDead) this.vm.kill(reason);
  }

  /** Stop the device for good: ends the VM, cancels pending reboots. */
  stop(reason: StopReason = { kind: 'stopped' }, keepReminder = false): void {
    if (this.stoppedFlag) return;
    this.stoppedFlag = true;
    if (!keepReminder) this.clock.clearTimer(this.noMainTimer);
    this.clock.clearTimer(this.rebootTimer);
    this.stopWdt();
    if (this.vm && !this.vm.isDead) this.vm.close();
    this.logSink.flush();
    this.emit('stopped', reason);
  }

  /** main.lua is missing: the firmware logs a reminder every second and does not reboot. */
  private noMainTimer: TimerHandle | null = null;
  private noMainFlag = false;
  noMain(): void {
    this.noMainFlag = true;
  }
  private startNoMainReminder(): void {
    const tick = () => {
      this.logRuntime('E', 'main', '未找到main.lua,请刷入脚本 / main.lua not found, please flash the script');
      this.noMainTimer = this.clock.setTimer(1000, tick);
    };
    tick();
  }

  // ------------------------------------------------------------------ watchdog (wdt.*)

  wdtInit(timeoutMs: number): void {
    this.stopWdt();
    this.wdt = { timeoutMs, timer: null };
    this.wdtFeed();
  }
  wdtFeed(): void {
    if (!this.wdt) return;
    this.clock.clearTimer(this.wdt.timer);
    const ms = this.wdt.timeoutMs;
    this.wdt.timer = this.clock.setTimer(ms, () => {
      if (this.wdt) this.wdt.timer = null;
      this.logRuntime('E', 'wdt', `watchdog not fed for ${ms} ms`);
      this.reboot(`watchdog timeout: not fed for ${ms} ms`);
    });
  }
  stopWdt(): void {
    if (this.wdt) this.clock.clearTimer(this.wdt.timer);
    this.wdt = null;
  }
}
