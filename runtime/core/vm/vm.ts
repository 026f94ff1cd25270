/**
 * One boot of the device: a Lua state, the firmware's message queue and timers, and the
 * event loop that connects them to Node (lua-engine.md §5, design c).
 *
 * `main.lua` runs in a Lua thread the host resumes. `rtos.receive` is a host function: when a
 * message is queued it runs the message's handler at once; otherwise it yields the thread back
 * to Node with a continuation. Timers and I/O put handlers in the queue and schedule a resume;
 * the continuation runs the next handler *inside* `rtos.receive`, as the firmware's C message
 * handlers run inside it (a timer handler returns `MSG_TIMER, id, repeat`; others call
 * `sys_pub` and return nothing). Node's event loop is never blocked while scripts wait.
 *
 * The thread running main.lua is presented to Lua as the main thread (`coroutine.running()`
 * returns it with `true`, `coroutine.yield` from it fails with the stock message), so the
 * firmware's `sys.lua` behaves as on the device.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Clock, TimerHandle } from '../clock';
import {
  LuaEngine,
  LuaError,
  LuaState,
  LUA_HOOKCALL,
  LUA_HOOKCOUNT,
  LUA_HOOKLINE,
  LUA_HOOKRET,
  LUA_HOOKTAILCALL,
  LUA_MASKCALL,
  LUA_MASKCOUNT,
  LUA_MASKLINE,
  LUA_MASKRET,
  LUA_OK,
  LUA_TFUNCTION,
  LUA_TNIL,
  LUA_TTABLE,
  LUA_TTHREAD,
  LUA_YIELD,
} from '../engine/types';
import { Args, JsLuaValue, pushValue, pushValues } from './lua-value';
import { LogLevel } from '../log';
import { Vfs } from '../fs/vfs';
import type { DeviceProfile } from '../profile';
import type { FaultRegistry } from '../faults';
import type { ApiCoverage } from '../coverage';

export type MsgHandler = (L: LuaState) => number;
export type BindingFn = (a: Args) => number | void;

export const MSG_TIMER = 1;
export const INF_TIMEOUT = -1;

/** Why a VM ended. */
export interface VmExit {
  kind: 'error' | 'returned' | 'reboot' | 'watchdog' | 'stopped' | 'load' | 'exit';
  message?: string;
  /** rtos.reboot(code); os.exit(code) (kind 'exit': only boards that have os.exit, see runtime/boards/) */
  code?: number;
}

const LIB_DIR = path.resolve(__dirname, '..', '..', '..', '..', 'runtime', 'lua'); // path: dist/runtime/core/vm -> runtime/lua

/** Events handled in one resume before yielding to Node anyway (I/O fairness). */
const MAX_EVENTS_PER_RESUME = 256;
const MAX_RESUME_SLICE_MS = 20;
const HOOK_COUNT = 10000;
/** a script's count hook up to this many instructions is installed as is (exact) */
const SCRIPT_COUNT_DIRECT = 1000000;
/** registry key of the scripts' hooks: thread -> {fn, mask, count, acc} (weak keys) */
const HOOKS_KEY = '__luatos_pc_hooks';
const HOOK_EVENT_NAMES = ['call', 'return', 'line', 'count', 'tail call'];

let hostObjectSeq = 1;

/**
 * What the layers above the core attach to a device. Empty here: each layer declares its part
 * by declaration merging (luatos-api/shared/net-events.ts adds `net`, the device's network), so
 * the core names no type of theirs and the Device still carries them typed.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface DeviceParts {}

/**
 * The read-only status snapshots the parts of a device contribute (the web console's device
 * panel reads them through the Device). Empty here: each contributor declares its section by
 * declaration merging (luatos-api/shared/media-hub.ts adds `rtmp`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface StatusSections {}

/**
 * The device as a VM and its bindings see it (`vm.device`): the Device (runtime/core/device.ts)
 * implements it. Defined here, not imported, so the VM and the Device do not import each other.
 */
export interface VmHost extends DeviceParts {
  readonly profile: DeviceProfile;
  readonly clock: Clock;
  readonly vfs: Vfs;
  readonly faults: FaultRegistry;
  readonly boots: number;
  readonly stopped: boolean;
  coverage: ApiCoverage | null;
  /** current log level set by log.setLevel */
  logLevel: number;
  /** the USB camera is pulled out (fault injection) */
  cameraUnplugged: boolean;
  resumeObserver: ((running: boolean) => void) | null;
  uptime(): number;
  runawayBudgetMs(): number;
  logRuntime(level: LogLevel, module: string, message: string, vm?: Vm): void;
  logUser(payload: Buffer): void;
  onVmExit(vm: Vm, x: VmExit): void;
  noMain(): void;
  /**
   * A binding contributes a status section: `read` returns a snapshot (undefined: nothing to
   * show) and must change nothing. Returns the function that withdraws it.
   */
  addStatusSection<K extends keyof StatusSections>(name: K, read: () => StatusSections[K] | undefined): () => void;
  /** stop the device for good (pm.shutdown) */
  stop(reason?: { kind: 'stopped'; exit?: VmExit }): void;
  wdtInit(timeoutMs: number): void;
  wdtFeed(): void;
  stopWdt(): void;
  on(event: 'vmexit', fn: (x: VmExit, bootNo: number) => void): unknown;
  off(event: 'vmexit', fn: (x: VmExit, bootNo: number) => void): unknown;
  /** services shared with other devices of the process (a fleet's camera encoder pool) */
  readonly shared: ReadonlyMap<string, unknown>;
  /** the debugger attached to the device (luatos run --inspect), or null */
  debugger: VmDebugger | null;
}

/**
 * A debugger attached to the device (runtime/core/debug/core.ts): the VM calls it at boot, on line
 * events (while it asks for the line mask), on count events and when the main thread dies of
 * an error.
 */
export interface VmDebugger {
  /** LUA_MASKLINE while it needs line events, else 0 */
  readonly lineMask: number;
  attach(vm: Vm): void;
  onLine(L: LuaState, line: number): void;
  onCount(L: LuaState): void;
  onMainError(message: string): void;
}

export class Vm {
  readonly e: LuaEngine;
  readonly L: LuaState;
  /** the thread running main.lua */
  T!: LuaState;
  readonly device: VmHost;
  readonly vfs: Vfs;
  readonly clock: Clock;
  readonly bootTime: number;
  readonly bootNo: number;

  private readonly queue: MsgHandler[] = [];
  private waiting = false;
  private pumpScheduled = false;
  private running = false;
  private dead = false;
  private resumeStart = 0;
  private eventsThisResume = 0;
  private receiveTimeout: TimerHandle | null = null;
  private readonly timers = new Map<number, { h: TimerHandle; ms: number; repeat: number; at: number }>();
  private readonly hostObjects = new Map<number, unknown>();
  private readonly closers = new Set<() => unknown>();
  /** settles when what the closers started (an ffmpeg child stopping) has ended */
  private drainedP: Promise<void> = Promise.resolve();
  private killReason: string | null = null;
  /** rtos.setPaths templates */
  customPaths: string[] = [];
  /** main.lua (or the boot chunk) failed to load: a syntax error */
  loadFailed = false;
  private futureSeq = 0n;

  constructor(device: VmHost, engine: LuaEngine, bootNo: number) {
    this.device = device;
    this.e = engine;
    this.vfs = device.vfs;
    this.clock = device.clock;
    this.bootNo = bootNo;
    this.bootTime = this.clock.now();
    this.L = engine.newstate();
    // the profile's Lua heap (rtos.meminfo("lua") total), where the engine can enforce it (lua53)
    engine.setMemoryLimit?.(this.L, device.profile.memory.lua);
  }

  /** ms since this boot */
  uptime(): number {
    return this.clock.now() - this.bootTime;
  }

  /** A firmware (C-level) log line: `luat:<L>(<ms>):<module>:<message>` */
  log(level: LogLevel, module: string, message: string): void {
    this.device.logRuntime(level, module, message, this);
  }

  // ---------------------------------------------------------------- setup

  /** Register a global module table of host functions and constants. */
  defineModule(name: string, fns: Record<string, BindingFn>, consts: Record<string, JsLuaValue> = {}): void {
    const { e, L } = this;
    if (e.getglobal(L, name) !== LUA_TTABLE) {
      e.pop(L, 1);
      e.createtable(L, 0, Object.keys(fns).length + Object.keys(consts).length);
    }
    for (const [k, fn] of Object.entries(fns)) {
      this.pushBinding(`${name}.${k}`, fn);
      e.setfield(L, -2, k);
    }
    for (const [k, v] of Object.entries(consts)) {
      pushValue(e, L, v);
      e.setfield(L, -2, k);
    }
    e.setglobal(L, name);
  }

  /** Push a host function that receives checked arguments. `fname` is used in error texts. */
  pushBinding(fname: string, fn: BindingFn, L: LuaState = this.L): void {
    const short = fname.includes('.') ? fname.slice(fname.lastIndexOf('.') + 1) : fname;
    const cov = this.device.coverage;
    this.e.pushfunction(L, (L2) => {
      if (cov) cov.record(fname);
      const r = fn(new Args(this.e, L2, short));
      return typeof r === 'number' ? r : 0;
    });
  }

  setGlobalFunction(name: string, fn: BindingFn): void {
    this.pushBinding(name, fn);
    this.e.setglobal(this.L, name);
  }

  /**
   * Make a lookup of a missing function on a LuatOS module table log a warning naming it
   * (`rtmp.foo is not implemented by this runtime`), once per name. The lookup still returns
   * nil, so scripts that test for optional functions (`if netdrv.on then`) behave as on a
   * firmware without them; a call then fails with Lua's own message right after the warning.
   */
  watchMissing(modules: string[]): void {
    const { e, L } = this;
    const warned = new Set<string>();
    for (const name of modules) {
      if (e.getglobal(L, name) !== LUA_TTABLE) {
        e.pop(L, 1);
        continue;
      }
      if (e.getmetatable(L, -1)) {
        e.pop(L, 2); // a module with its own metatable keeps it
        continue;
      }
      e.createtable(L, 0, 1);
      this.pushBinding(`${name}.__index`, (a) => {
        if (a.type(2) === 4 /* string */) this.noteMissing(`${name}.${a.string(2)}`, warned);
        return 0;
      });
      e.setfield(L, -2, '__index');
      e.setmetatable(L, -2);
      e.pop(L, 1);
    }
  }

  /** A script looked up something this runtime lacks: count it, warn once per name. */
  private noteMissing(key: string, warned: Set<string>): void {
    this.device.coverage?.recordMissing(key);
    if (warned.has(key)) return;
    warned.add(key);
    this.log('W', 'luatos', `${key} is not implemented by this runtime`);
  }

  /**
   * Reading a global named like a LuatOS module this runtime lacks (`gpio`, `icmp`, ...) logs
   * `gpio is not implemented by this runtime` once and gives nil, as a firmware built without it.
   */
  watchAbsentModules(names: string[]): void {
    const { e, L } = this;
    const absent = new Set(names);
    const warned = new Set<string>();
    e.getglobal(L, '_G');
    if (e.getmetatable(L, -1)) {
      e.pop(L, 2);
      return;
    }
    e.createtable(L, 0, 1);
    this.pushBinding('_G.__index', (a) => {
      if (a.type(2) === 4 /* string */ && absent.has(a.string(2))) this.noteMissing(a.string(2), warned);
      return 0;
    });
    e.setfield(L, -2, '__index');
    e.setmetatable(L, -2);
    e.pop(L, 1);
  }

  /** Keep a JS object reachable from Lua userdata (`newhostobject`). */
  addHostObject(obj: unknown): number {
    const id = hostObjectSeq++;
    this.hostObjects.set(id, obj);
    return id;
  }
  getHostObject<T>(id: number | null): T | undefined {
    return id === null ? undefined : (this.hostObjects.get(id) as T | undefined);
  }
  removeHostObject(id: number): void {
    this.hostObjects.delete(id);
  }

  /**
   * Run `fn` when this VM ends (close sockets, kill children, stop timers). A promise it returns
   * (a child process that takes a moment to exit) is waited for by {@link drained}.
   */
  onClose(fn: () => unknown): () => void {
    this.closers.add(fn);
    return () => this.closers.delete(fn);
  }

  /**
   * Settles once the closers' work has ended after the VM ended: the device boots again only
   * then, so the old boot's last output (ffmpeg's summary, `camera: stopped`) is logged with the
   * old boot's times, before the new banner.
   */
  get drained(): Promise<void> {
    return this.drainedP;
  }

  get isDead(): boolean {
    return this.dead;
  }

  // ---------------------------------------------------------------- message queue

  /** Queue a C-side message; its handler runs inside rtos.receive. */
  post(h: MsgHandler): void {
    if (this.dead) return;
    this.queue.push(h);
    if (this.waiting) this.schedulePump();
  }

  /** Queue `sys_pub(topic, ...)` as a C handler would. */
  publish(topic: string | Uint8Array, ...args: JsLuaValue[]): void {
    this.post((L) => {
      this.callGlobal(L, 'sys_pub', [topic, ...args]);
      return 0;
    });
  }

  /** Call a global Lua function unprotected (errors end the VM, as in the firmware). */
  callGlobal(L: LuaState, name: string, args: JsLuaValue[]): void {
    if (this.e.getglobal(L, name) !== LUA_TFUNCTION) {
      this.e.pop(L, 1);
      return;
    }
    pushValues(this.e, L, args);
    this.e.call(L, args.length, 0);
  }

  /** Call a Lua function held in the registry (a callback), unprotected. */
  callRef(L: LuaState, ref: number, args: JsLuaValue[]): void {
    this.e.rawgeti(L, this.e.REGISTRYINDEX, ref);
    if (this.e.type(L, -1) !== LUA_TFUNCTION) {
      this.e.pop(L, 1);
      return;
    }
    pushValues(this.e, L, args);
    this.e.call(L, args.length, 0);
  }

  /**
   * A future for an async host API (luatos-api.md §3.8): pushes `sys_cw(topic)` and returns the
   * topic; complete it later with `resolveFuture(topic, ...results)`.
   */
  pushFuture(L: LuaState): Buffer {
    const id = ++this.futureSeq;
    const topic = Buffer.alloc(9);
    topic[0] = 0x01;
    topic.writeBigUInt64LE(id, 1);
    this.e.getglobal(L, 'sys_cw');
    this.e.pushbytes(L, topic);
    this.e.call(L, 1, 1);
    return topic;
  }
  /** A future that already failed: `.wait()` returns these values at once. */
  pushFailedFuture(L: LuaState, values: JsLuaValue[]): void {
    this.e.getglobal(L, 'sys_cw');
    this.e.pushnil(L);
    pushValues(this.e, L, values);
    this.e.call(L, 1 + values.length, 1);
  }
  resolveFuture(topic: Buffer, results: JsLuaValue[]): void {
    this.publish(topic, ...results);
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.dead) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private runNext(L: LuaState): number {
    const h = this.queue.shift() as MsgHandler;
    this.eventsThisResume++;
    return h(L);
  }

  /** rtos.receive(timeout) */
  receive(L: LuaState, timeout: number): number {
    if (this.queue.length > 0 && this.eventsThisResume < MAX_EVENTS_PER_RESUME && performance.now() - this.resumeStart < MAX_RESUME_SLICE_MS) {
      return this.runNext(L);
    }
    if (timeout >= 0 && this.queue.length === 0) {
      this.receiveTimeout = this.clock.setTimer(timeout, () => {
        this.receiveTimeout = null;
        this.post((L2) => {
          this.e.pushinteger(L2, -1);
          return 1;
        });
      });
    }
    this.waiting = true;
    if (this.queue.length > 0) this.schedulePump();
    const k = (L2: LuaState): number => {
      this.waiting = false;
      if (this.receiveTimeout) {
        this.clock.clearTimer(this.receiveTimeout);
        this.receiveTimeout = null;
      }
      if (this.queue.length === 0) {
        this.waiting = true;
        return this.e.yieldk(L2, 0, k);
      }
      return this.runNext(L2);
    };
    return this.e.yieldk(L, 0, k);
  }

  // ---------------------------------------------------------------- timers (rtos.timer_*)

  timerStart(id: number, ms: number, repeat: number): boolean {
    if (ms < 1) return false;
    this.timerStop(id);
    const arm = (rep: number) => {
      const h = this.clock.setTimer(ms, () => {
        const entry = this.timers.get(id);
        if (!entry || entry.h !== h) return;
        const before = entry.repeat;
        if (before === -1) arm(-1);
        else if (before > 0) arm(before - 1);
        else this.timers.delete(id);
        this.post((L) => {
          this.e.pushinteger(L, MSG_TIMER);
          this.e.pushinteger(L, id);
          this.e.pushinteger(L, before);
          return 3;
        });
      });
      this.timers.set(id, { h, ms, repeat: rep, at: this.clock.now() });
    };
    arm(repeat);
    return true;
  }

  timerStop(id: number): void {
    const t = this.timers.get(id);
    if (t) {
      this.clock.clearTimer(t.h);
      this.timers.delete(id);
    }
  }

  get activeTimers(): number {
    return this.timers.size;
  }

  /** The armed rtos timers: id, period, repeat and when (device clock) they were armed (the console's task list). */
  timerList(): { id: number; ms: number; repeat: number; armedAt: number }[] {
    return [...this.timers].map(([id, t]) => ({ id, ms: t.ms, repeat: t.repeat, armedAt: t.at }));
  }

  // ---------------------------------------------------------------- running

  /** Load a Lua library shipped with the runtime (runtime/lua/NAME.lua) and run it in L. */
  runBundledChunk(L: LuaState, file: string, nargs = 0, nresults = 0): void {
    const code = fs.readFileSync(path.join(LIB_DIR, file));
    if (this.e.loadbuffer(L, code, '@' + file) !== LUA_OK) {
      const msg = this.e.tostring(L, -1);
      throw new Error(`cannot load bundled ${file}: ${msg}`);
    }
    if (nargs > 0) this.e.insert(L, -(nargs + 1));
    this.e.call(L, nargs, nresults);
  }

  /**
   * Start the boot chunk in the main thread: it installs the Lua-side parts of the runtime,
   * loads sys/sysplus and runs main.lua. Everything after this is driven by events.
   */
  start(bootChunk: Uint8Array, chunkname: string): void {
    const { e, L } = this;
    // the count hook is inherited by threads created afterwards (the main thread, coroutines)
    this.installHook();
    this.installDebugHooks();
    this.T = e.newthread(L);
    // anchor the thread in the registry so it is never collected
    this.threadRef = e.ref(L, e.REGISTRYINDEX);
    const dbg = this.device.debugger;
    if (dbg) {
      const top = e.gettop(L);
      try {
        dbg.attach(this);
      } catch (err) {
        e.settop(L, top);
        // the device runs on without it rather than reboot over a debugger fault
        this.log('W', 'luatos', `debugger not attached: ${(err as Error).message}`);
      }
    }
    if (e.loadbuffer(this.T, bootChunk, chunkname) !== LUA_OK) {
      const msg = e.tostring(this.T, -1) ?? 'boot chunk failed to load';
      this.finish({ kind: 'load', message: msg });
      return;
    }
    this.resumeMain(0);
  }
  private threadRef = 0;
  private closeAfterResume = false;
  private closed = false;

  private readonly hookFn = (L: LuaState, event: number, line: number): void => this.onHook(L, event, line);
  /** threads given a hook by the script (an upper bound: collected threads are not counted down) */
  private scriptHooks = 0;

  /**
   * The runtime owns the VM's hook: a count hook (the runaway watchdog, kill requests) on
   * every thread, always. A script's `debug.sethook` is chained into it (see
   * installDebugHooks), never replaces it.
   */
  private installHook(): void {
    this.e.sethook(this.L, LUA_MASKCOUNT | (this.device.debugger?.lineMask ?? 0), HOOK_COUNT, this.hookFn);
  }

  /** raise the kill reason in the running thread, and on every instruction after that */
  private raiseKill(L: LuaState): never {
    this.e.sethook(L, LUA_MASKCOUNT, 1, this.hookFn);
    throw new LuaError(this.killReason as string);
  }

  private onHook(L: LuaState, event: number, line: number): void {
    // the debugger's own Lua calls while the device is stopped: no watchdog, no script hook
    if (this.debugStop) return;
    if (this.killReason) this.raiseKill(L);
    const dbg = this.device.debugger;
    if (dbg) {
      if (event === LUA_HOOKLINE) dbg.onLine(L, line);
      else if (event === LUA_HOOKCOUNT) dbg.onCount(L);
    }
    if (event === LUA_HOOKCOUNT && this.running) {
      const budget = this.device.runawayBudgetMs();
      if (performance.now() - this.resumeStart > budget) {
        // pcall cannot swallow it: the hook raises again on the next instruction
        this.killReason = `watchdog: Lua code ran for more than ${budget} ms without yielding (runaway loop?)`;
        this.raiseKill(L);
      }
    }
    if (this.scriptHooks > 0) this.runScriptHook(L, event, line);
  }

  /** Call the running thread's script hook for this event, as ldblib's hookf does. */
  private runScriptHook(L: LuaState, event: number, line: number): void {
    const e = this.e;
    const top = e.gettop(L);
    if (!e.checkstack(L, 6)) return;
    if (e.getfield(L, e.REGISTRYINDEX, HOOKS_KEY) !== LUA_TTABLE) {
      e.settop(L, top);
      return;
    }
    e.pushthread(L);
    if (e.rawget(L, -2) !== LUA_TTABLE) {
      e.settop(L, top);
      return;
    }
    const entry = e.absindex(L, -1);
    e.rawgeti(L, entry, 2);
    const mask = e.tointeger(L, -1) ?? 0;
    e.rawgeti(L, entry, 3);
    const count = e.tointeger(L, -1) ?? 0;
    e.settop(L, entry);
    let fire: boolean;
    switch (event) {
      case LUA_HOOKCOUNT:
        fire = false;
        if (mask & LUA_MASKCOUNT) {
          if (count <= SCRIPT_COUNT_DIRECT) fire = true;
          else {
            // installed with HOOK_COUNT: count instructions until the script's count is reached
            e.rawgeti(L, entry, 4);
            const acc = (e.tointeger(L, -1) ?? 0) + HOOK_COUNT;
            e.pop(L, 1);
            fire = acc >= count;
            e.pushinteger(L, fire ? acc - count : acc);
            e.rawseti(L, entry, 4);
          }
        }
        break;
      case LUA_HOOKLINE:
        fire = (mask & LUA_MASKLINE) !== 0;
        break;
      case LUA_HOOKCALL:
      case LUA_HOOKTAILCALL:
        fire = (mask & LUA_MASKCALL) !== 0;
        break;
      case LUA_HOOKRET:
        fire = (mask & LUA_MASKRET) !== 0;
        break;
      default:
        fire = false;
    }
    if (!fire) {
      e.settop(L, top);
      return;
    }
    e.rawgeti(L, entry, 1);
    e.pushstring(L, HOOK_EVENT_NAMES[event] ?? 'count');
    if (line >= 0) e.pushinteger(L, line);
    else e.pushnil(L);
    e.call(L, 2, 0);
    e.settop(L, top);
  }

  /** Install the thread's hook: the runtime's count hook plus what the script and the debugger asked for. */
  private applyHook(L1: LuaState, mask: number, count: number): void {
    let ccount = mask & LUA_MASKCOUNT && count > 0 && count <= SCRIPT_COUNT_DIRECT ? count : HOOK_COUNT;
    if (this.killReason) ccount = 1;
    this.e.sethook(L1, LUA_MASKCOUNT | mask | (this.device.debugger?.lineMask ?? 0), ccount, this.hookFn);
  }

  /**
   * Re-install thread T1's hook after the debugger's mask changed, keeping the script's own
   * hook (if any). The thread value sits at `idx` on thread L (to look the script's hook up).
   */
  refreshHook(T1: LuaState, L: LuaState, idx: number): void {
    if (this.dead) return;
    const e = this.e;
    let mask = 0;
    let count = 0;
    const top = e.gettop(L);
    const at = e.absindex(L, idx);
    if (e.getfield(L, e.REGISTRYINDEX, HOOKS_KEY) === LUA_TTABLE) {
      e.pushvalue(L, at);
      if (e.rawget(L, -2) === LUA_TTABLE) {
        e.rawgeti(L, -1, 2);
        mask = e.tointeger(L, -1) ?? 0;
        e.rawgeti(L, -2, 3);
        count = e.tointeger(L, -1) ?? 0;
      }
    }
    e.settop(L, top);
    this.applyHook(T1, mask, count);
  }

  /** the debugger holds the VM (runtime/core/debug/core.ts) */
  private debugStop = false;
  private pausedAt = 0;
  /**
   * The debugger stops (true) and resumes (false) the VM: the pause does not count towards the
   * runaway budget, and the supervisor's heartbeat sees no running resume meanwhile.
   */
  debugPaused(on: boolean): void {
    if (on === this.debugStop) return;
    this.debugStop = on;
    const observe = this.device.resumeObserver;
    if (on) {
      this.pausedAt = performance.now();
      if (this.running) observe?.(false);
    } else {
      this.resumeStart += performance.now() - this.pausedAt;
      if (this.running) observe?.(true);
    }
  }

  /** a Lua resume is in progress */
  get isRunning(): boolean {
    return this.running;
  }

  /** the VM is being ended from the host (reboot, watchdog, stop): errors now are not the script's */
  get killing(): boolean {
    return this.killReason !== null;
  }

  /**
   * `debug.sethook([thread,] hook, mask [, count])` / `debug.gethook([thread])` as in Lua 5.3's
   * ldblib (the firmware's Lua), but chained with the runtime's hook: the script's hook
   * fires for its events, `debug.sethook()` removes only the script's hook, `gethook`
   * returns the script's hook, mask and count (nil, "", 0 when it has none, as 5.3 does
   * for a thread without a hook). A count above 1,000,000 instructions is counted in steps
   * of 10,000 (so it fires within 10,000 instructions of the exact count).
   */
  private installDebugHooks(): void {
    const { e, L } = this;
    if (e.getglobal(L, 'debug') !== LUA_TTABLE) {
      e.pop(L, 1);
      return;
    }
    const threadArg = (L2: LuaState): { L1: LuaState; arg: number } => {
      if (e.type(L2, 1) === LUA_TTHREAD) return { L1: e.tothread(L2, 1) as LuaState, arg: 1 };
      return { L1: L2, arg: 0 };
    };
    const hookTable = (L2: LuaState): void => {
      if (e.getfield(L2, e.REGISTRYINDEX, HOOKS_KEY) === LUA_TTABLE) return;
      e.pop(L2, 1);
      e.createtable(L2, 0, 2);
      e.createtable(L2, 0, 1);
      e.pushstring(L2, 'k');
      e.setfield(L2, -2, '__mode');
      e.setmetatable(L2, -2);
      e.pushvalue(L2, -1);
      e.setfield(L2, e.REGISTRYINDEX, HOOKS_KEY);
    };
    this.pushBinding('debug.sethook', (a) => {
      const { L1, arg } = threadArg(a.L);
      let mask = 0;
      let count = 0;
      const off = a.isNoneOrNil(arg + 1);
      if (!off) {
        const smask = a.string(arg + 2);
        a.func(arg + 1);
        count = a.optInteger(arg + 3, 0);
        if (smask.includes('c')) mask |= LUA_MASKCALL;
        if (smask.includes('r')) mask |= LUA_MASKRET;
        if (smask.includes('l')) mask |= LUA_MASKLINE;
        if (count > 0) mask |= LUA_MASKCOUNT;
      }
      hookTable(a.L);
      const t = e.absindex(a.L, -1);
      if (L1 === a.L) e.pushthread(a.L);
      else e.pushvalue(a.L, 1);
      if (off || mask === 0) {
        e.pushnil(a.L);
      } else {
        e.createtable(a.L, 4, 0);
        e.pushvalue(a.L, arg + 1);
        e.rawseti(a.L, -2, 1);
        e.pushinteger(a.L, mask);
        e.rawseti(a.L, -2, 2);
        e.pushinteger(a.L, count);
        e.rawseti(a.L, -2, 3);
        e.pushinteger(a.L, 0);
        e.rawseti(a.L, -2, 4);
        this.scriptHooks++;
      }
      e.rawset(a.L, t);
      this.applyHook(L1, off ? 0 : mask, count);
      return 0;
    });
    e.setfield(L, -2, 'sethook');
    this.pushBinding('debug.gethook', (a) => {
      const { L1, arg } = threadArg(a.L);
      void arg;
      hookTable(a.L);
      if (L1 === a.L) e.pushthread(a.L);
      else e.pushvalue(a.L, 1);
      if (e.rawget(a.L, -2) !== LUA_TTABLE) {
        e.pushnil(a.L);
        e.pushstring(a.L, '');
        e.pushinteger(a.L, 0);
        return 3;
      }
      const entry = e.absindex(a.L, -1);
      e.rawgeti(a.L, entry, 1);
      e.rawgeti(a.L, entry, 2);
      const mask = e.tointeger(a.L, -1) ?? 0;
      e.pop(a.L, 1);
      e.pushstring(a.L, (mask & LUA_MASKCALL ? 'c' : '') + (mask & LUA_MASKRET ? 'r' : '') + (mask & LUA_MASKLINE ? 'l' : ''));
      e.rawgeti(a.L, entry, 3);
      return 3;
    });
    e.setfield(L, -2, 'gethook');
    e.pop(L, 1);
  }

  /** End the VM from the host (rtos.reboot, a watchdog timeout): stops at the next instruction. */
  kill(reason: string): void {
    if (this.dead) return;
    if (this.running) {
      this.killReason = reason;
      this.e.sethook(this.T, LUA_MASKCOUNT, 1, this.hookFn);
    } else {
      this.finish({ kind: 'watchdog', message: reason });
    }
  }

  private pump(): void {
    if (this.dead || this.running || !this.waiting) return;
    this.resumeMain(0);
  }

  private resumeMain(nargs: number): void {
    this.running = true;
    // real time, not device time: the runaway budget and I/O fairness are about the host
    this.resumeStart = performance.now();
    this.eventsThisResume = 0;
    const observe = this.device.resumeObserver; // the off-thread supervisor's heartbeat (runtime/host)
    observe?.(true);
    let status: number;
    let nres: number;
    try {
      ({ status, nres } = this.e.resume(this.T, null, nargs));
    } catch (err) {
      observe?.(false);
      this.running = false;
      this.finish({ kind: 'error', message: `internal error: ${(err as Error).message}` });
      if (this.closeAfterResume) this.close();
      return;
    }
    observe?.(false);
    this.running = false;
    if (this.closeAfterResume) {
      this.closeAfterResume = false;
      this.close();
      return;
    }
    if (this.dead) return;
    if (status === LUA_YIELD) {
      this.e.pop(this.T, nres);
      if (this.pendingExit) {
        const x = this.pendingExit;
        this.pendingExit = null;
        this.finish(x);
        return;
      }
      if (!this.waiting) {
        this.finish({ kind: 'error', message: 'attempt to yield from outside a coroutine' });
        return;
      }
      if (this.queue.length > 0) this.schedulePump();
      return;
    }
    if (status === LUA_OK) {
      this.finish({ kind: 'returned' });
      return;
    }
    const msg = this.e.type(this.T, -1) === LUA_TNIL ? 'nil' : this.e.tostring(this.T, -1) ?? `(error object is a ${this.e.typename(this.T, -1)} value)`;
    if (this.pendingExit) {
      const x = this.pendingExit;
      this.pendingExit = null;
      this.finish(x);
      return;
    }
    if (this.killReason) {
      this.finish({ kind: 'watchdog', message: this.killReason });
      return;
    }
    // a debugger stops here, with the main thread's stack intact, before the VM exit
    if (!this.loadFailed) this.device.debugger?.onMainError(msg);
    if (this.dead) return;
    this.finish({ kind: this.loadFailed ? 'load' : 'error', message: msg });
  }

  /** Request a VM exit from inside a host function (rtos.reboot): unwinds the Lua stack. */
  private pendingExit: VmExit | null = null;
  /**
   * An exit was requested (rtos.reboot, os.exit) and the Lua stack is unwinding: on the device
   * the C call never returns, so nothing the unwinding Lua code prints (sys.lua's
   * `coroutine.resume` error line) may reach the log.
   */
  get exiting(): boolean {
    return this.pendingExit !== null;
  }
  requestExit(x: VmExit, L: LuaState): never {
    this.pendingExit = x;
    this.killReason = x.kind === 'reboot' ? 'rtos.reboot' : x.message ?? 'exit';
    // called inside a task, the unwinding ends at coroutine.resume: stop the main thread at its
    // next instruction too, so sys.coresume does not log a requested reboot as a task error
    // (on the device rtos.reboot never returns)
    if (L !== this.T) this.e.sethook(this.T, LUA_MASKCOUNT, 1, this.hookFn);
    return this.raiseKill(L);
  }

  private finish(x: VmExit): void {
    if (this.dead) return;
    this.dead = true;
    this.waiting = false;
    this.queue.length = 0;
    for (const t of this.timers.values()) this.clock.clearTimer(t.h);
    this.timers.clear();
    if (this.receiveTimeout) this.clock.clearTimer(this.receiveTimeout);
    const pending: Promise<unknown>[] = [];
    for (const c of [...this.closers]) {
      try {
        const r = c();
        if (r && typeof (r as Promise<unknown>).then === 'function') pending.push(r as Promise<unknown>);
      } catch {
        /* closing must go on */
      }
    }
    this.closers.clear();
    if (pending.length) this.drainedP = Promise.allSettled(pending).then(() => undefined);
    this.device.onVmExit(this, x);
  }

  /**
   * Free the Lua state (after finish). Safe to call from inside the VM (a log listener, a host
   * function): then the state is freed once the running resume has returned.
   */
  close(): void {
    if (!this.dead) this.finish({ kind: 'stopped' });
    if (this.running) {
      this.closeAfterResume = true;
      if (!this.killReason) {
        this.killReason = 'device stopped';
        this.e.sethook(this.T, LUA_MASKCOUNT, 1, this.hookFn);
      }
      return;
    }
    if (this.closed) return;
    this.closed = true;
    this.hostObjects.clear();
    try {
      if (!this.e.broken) this.e.sethook(this.L, 0, 0, null);
      // releases the host functions and continuations this boot registered (engine side)
      this.e.close(this.L);
    } catch {
      /* already closed */
    }
  }

  /** Lua heap in bytes (lua53, wasmoon: real; fengari: an estimate, see luatos-api/rtos.ts). */
  luaHeapBytes(): number | null {
    const kb = this.e.gcCountKB(this.L);
    return kb === null ? null : Math.round(kb * 1024);
  }

  nextFutureTopic(): bigint {
    return ++this.futureSeq;
  }

  /** Create a global table `name` if missing and leave it on the stack. */
  getOrCreateGlobalTable(name: string): void {
    if (this.e.getglobal(this.L, name) !== LUA_TTABLE) {
      this.e.pop(this.L, 1);
      this.e.createtable(this.L, 0, 0);
      this.e.pushvalue(this.L, -1);
      this.e.setglobal(this.L, name);
    }
  }
}
