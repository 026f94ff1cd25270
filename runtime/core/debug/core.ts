/**
 * The debugger core: runs in the device's thread, next to the VM, and stops it.
 *
 * - Breakpoints, stepping and `pause` ride on the VM's hook (the one the runaway watchdog uses,
 *   runtime/core/vm/vm.ts): the line mask is on (for every thread) only while a breakpoint or a step
 *   exists, so an attached debugger without breakpoints costs nothing but the count hook that
 *   always runs. A line event is checked against the set of breakpoint lines first; only a
 *   candidate line asks Lua for its source (`debug.getinfo`).
 * - A stop blocks this thread inside the hook (or inside the message handler when the VM was
 *   idle, or in the error path of a task or the main thread): commands come through
 *   {@link DebugLink.receive}, which waits on shared memory, so the main thread answers the
 *   DAP client while Lua stays exactly where it stopped. Meanwhile the device clock holds
 *   (Clock.pause/resume), the heartbeat says "paused" (the supervisor does not take it for a
 *   stuck VM) and the runaway budget does not count the pause.
 * - Introspection is Lua's `debug` library on the stopped thread (runtime/core/debug/helper.ts).
 * - Exceptions: a coroutine that dies of an error stops before `coroutine.resume` returns
 *   (so before sys.lua logs it and before the firmware's reboot path); an error that ends the
 *   main thread stops before the VM exit. Both only while a client asked for exception stops.
 *
 * Source mapping: a chunk `@name.lua` is the luadb file `name.lua` (the script folder packed
 * flat, subfolders included, runtime/core/fs/vfs.ts) or, failing that, a bundled library (runtime/lua).
 */
import * as fs from 'node:fs';
import { LuaState, LUA_MASKLINE, LUA_MULTRET, LUA_OK, LUA_TTABLE, LUA_TTHREAD } from '../engine/types';
import { pushValues, JsLuaValue } from '../vm/lua-value';
import type { Vm, VmDebugger } from '../vm/vm';
import type { Device } from '../device';
import { HELPER_LUA } from './helper';
import type { BreakpointState, DebugCommand, DebugMessage, FrameInfo, SourceBreakpoint, StopEvent, ThreadInfo, VariableInfo } from './protocol';

export interface DebugLink {
  post(m: DebugMessage): void;
  /** the next command, waiting up to ms (blocking the thread); null when none came */
  receive(ms: number): DebugCommand | null;
  /** a pause was requested from the main thread (the flag is cleared) */
  pauseRequested(): boolean;
  /** the device stops (true) or runs on (false): the heartbeat's business */
  paused(on: boolean): void;
}

interface Bp {
  id: number;
  line: number;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
  hits: number;
}

type Step = { kind: 'in' | 'over' | 'out' | 'entry' | 'pause'; thread: number; depth: number };

const SCOPE_BASE = 1_000_000;
const MAX_BREAKPOINTS = 10_000;
const MAX_EXPR = 10_000;


/** `hitCondition` as VS Code writes it: `N` (>= N), `>= N`, `> N`, `== N`, `= N`, `% N`. */
export function hitConditionMet(cond: string, hits: number): boolean {
  const m = /^\s*(>=|>|==|=|%|<=|<)?\s*(\d+)\s*$/.exec(cond);
  if (!m) return true;
  const n = Number(m[2]);
  switch (m[1]) {
    case '>':
      return hits > n;
    case '==':
    case '=':
      return hits === n;
    case '%':
      return n > 0 && hits % n === 0;
    case '<':
      return hits < n;
    case '<=':
      return hits <= n;
    default:
      return hits >= n;
  }
}

export class DebugCore implements VmDebugger {
  private vm: Vm | null = null;
  private href = 0;
  /** chunk source (`@rtmp_app.lua`) -> line -> breakpoint */
  private readonly bps = new Map<string, Map<number, Bp>>();
  /** host path -> the breakpoints as the client set them (kept across boots) */
  private readonly clientBps = new Map<string, SourceBreakpoint[]>();
  private bpLines = new Set<number>();
  /** breakpoint ids of this session (DAP: unique per debug session, so per core, not per process) */
  private bpSeq = 1;
  private step: Step | null = null;
  private exceptions = false;
  private inPause = false;
  private stopL: LuaState | null = null;
  private stopInfo: StopEvent | null = null;
  private frames = new Map<number, { thread: number; level: number }>();
  private scopes = new Map<number, { kind: 'locals' | 'upvalues' | 'globals'; thread: number; level: number }>();
  private frameSeq = 0;
  private mask = 0;
  private files: Array<{ path: string; name: string; real: string }> = [];

  constructor(
    private readonly device: Device,
    private readonly link: DebugLink,
    opts: { stopOnEntry?: boolean } = {},
  ) {
    if (opts.stopOnEntry) this.step = { kind: 'entry', thread: 0, depth: 0 };
    this.mapFiles();
  }

  // ------------------------------------------------------------------ the VM's side

  get lineMask(): number {
    return this.mask;
  }

  /** A new boot: load the helper (before boot.lua), re-install the breakpoints' hook. */
  attach(vm: Vm): void {
    this.vm = vm;
    this.inPause = false;
    const { e, L } = vm;
    if (e.loadbuffer(L, Buffer.from(HELPER_LUA), '=[luatos-pc debugger]') !== LUA_OK) throw new Error(`debugger helper: ${e.tostring(L, -1)}`);
    e.pushthread(vm.T);
    e.xmove(vm.T, L, 1);
    vm.pushBinding('debugger.onError', (a) => {
      this.onTaskError(a.L, a.integer(1), this.valueText(a.L, 2));
    });
    e.call(L, 2, 1);
    if (e.type(L, -1) !== LUA_TTABLE) throw new Error('debugger helper: no table');
    this.href = e.ref(L, e.REGISTRYINDEX);
    this.mapFiles();
    for (const [p, list] of this.clientBps) this.setBreakpoints(p, list);
    this.updateMask(true);
    this.link.post({ e: 'boot', n: vm.bootNo });
  }

  private valueText(L: LuaState, idx: number): string {
    const b = this.vm!.e.tolstringmeta(L, idx);
    this.vm!.e.pop(L, 1);
    return Buffer.from(b).toString('utf8');
  }

  onLine(L: LuaState, line: number): void {
    if (this.inPause) return;
    const st = this.step;
    if (!st && !this.bpLines.has(line)) return;
    const r = this.callH(L, 'here', [st !== null && (st.kind === 'over' || st.kind === 'out')]);
    if (r.length < 3) return;
    const source = String(r[0]);
    const cur = Number(r[1]);
    const tid = Number(r[2]);
    const depth = Number(r[3] ?? 0);
    if (st) {
      let stop = false;
      switch (st.kind) {
        case 'pause':
        case 'in':
          stop = true;
          break;
        case 'entry':
          stop = source === '@main.lua';
          break;
        case 'over':
          stop = tid === st.thread && depth <= st.depth;
          break;
        case 'out':
          stop = tid === st.thread && depth < st.depth;
          break;
      }
      if (stop) {
        this.step = null;
        this.updateMask();
        this.pause(L, { reason: st.kind === 'pause' ? 'pause' : st.kind === 'entry' ? 'entry' : 'step', thread: tid });
        return;
      }
    }
    const bp = this.bps.get(source)?.get(cur);
    if (!bp) return;
    if (bp.condition) {
      const c = this.callH(L, 'eval', [tid, 0, bp.condition, true]);
      if (c[0] !== true || c[1] !== 'true') return;
    }
    bp.hits++;
    if (bp.hitCondition && !hitConditionMet(bp.hitCondition, bp.hits)) return;
    if (bp.logMessage) {
      const t = this.callH(L, 'interpolate', [tid, 0, bp.logMessage]);
      this.link.post({ e: 'output', text: String(t[0] ?? '') + '\n' });
      return;
    }
    this.pause(L, { reason: 'breakpoint', thread: tid, hit: [bp.id] });
  }

  onCount(L: LuaState): void {
    if (this.inPause || !this.link.pauseRequested()) return;
    const r = this.callH(L, 'id', []);
    this.pause(L, { reason: 'pause', thread: Number(r[0] ?? 1) });
  }

  private onTaskError(L: LuaState, thread: number, text: string): void {
    const vm = this.vm;
    if (!this.exceptions || this.inPause || !vm || vm.exiting || vm.killing) return;
    this.pause(L, { reason: 'exception', thread, text });
  }

  onMainError(message: string): void {
    const vm = this.vm;
    if (!this.exceptions || this.inPause || !vm || vm.exiting || vm.killing) return;
    this.pause(vm.L, { reason: 'exception', thread: 1, text: message });
  }

  // ------------------------------------------------------------------ commands

  /** A command that arrived while the device runs (the VM is between two resumes). */
  command(cmd: DebugCommand): void {
    if (this.inPause) return; // read by the pause loop
    if (cmd.c === 'pause') {
      this.reply(cmd.seq, true, {});
      const vm = this.vm;
      if (!this.link.pauseRequested()) return; // already taken by the hook
      if (vm && !vm.isDead && !vm.isRunning) this.pause(vm.L, { reason: 'pause', thread: 1 });
      else this.setStep({ kind: 'pause', thread: 0, depth: 0 });
      return;
    }
    this.handle(cmd);
  }

  private reply(seq: number, ok: boolean, body: unknown): void {
    if (ok) this.link.post({ e: 'reply', seq, ok: true, body });
    else this.link.post({ e: 'reply', seq, ok: false, error: String(body) });
  }

  /** Returns true when the command resumes the device. */
  private handle(cmd: DebugCommand): boolean {
    try {
      return this.handleUnsafe(cmd);
    } catch (err) {
      this.reply(cmd.seq, false, (err as Error).message);
      return false;
    }
  }

  private handleUnsafe(cmd: DebugCommand): boolean {
    const paused = this.inPause;
    const notStopped = () => {
      throw new Error('the device is running (pause it first)');
    };
    switch (cmd.c) {
      case 'setBreakpoints': {
        if (!Array.isArray(cmd.breakpoints) || cmd.breakpoints.length > MAX_BREAKPOINTS) throw new Error('bad breakpoint list');
        this.clientBps.set(cmd.path, cmd.breakpoints);
        this.reply(cmd.seq, true, this.setBreakpoints(cmd.path, cmd.breakpoints));
        this.updateMask();
        return false;
      }
      case 'setExceptions':
        this.exceptions = cmd.uncaught === true;
        this.reply(cmd.seq, true, {});
        return false;
      case 'state':
        this.reply(cmd.seq, true, {
          paused,
          stop: this.stopInfo ?? undefined,
          files: this.files.map((f) => ({ path: f.path, name: f.name })),
          breakpoints: Object.fromEntries([...this.clientBps].map(([p, l]) => [p, l.map((b) => b.line)])),
        });
        return false;
      case 'threads':
        this.reply(cmd.seq, true, this.threads());
        return false;
      case 'stack':
        if (!paused) notStopped();
        this.reply(cmd.seq, true, this.stack(cmd.thread));
        return false;
      case 'scopes': {
        if (!paused) notStopped();
        const f = this.frames.get(cmd.frame);
        if (!f) throw new Error('no such frame');
        const mk = (kind: 'locals' | 'upvalues' | 'globals') => {
          const ref = SCOPE_BASE + this.scopes.size + 1;
          this.scopes.set(ref, { kind, thread: f.thread, level: f.level });
          return ref;
        };
        this.reply(cmd.seq, true, [
          { name: 'Locals', ref: mk('locals'), expensive: false },
          { name: 'Upvalues', ref: mk('upvalues'), expensive: false },
          { name: 'Globals', ref: mk('globals'), expensive: true },
        ]);
        return false;
      }
      case 'variables': {
        if (!paused) notStopped();
        this.reply(cmd.seq, true, this.variables(cmd.ref));
        return false;
      }
      case 'evaluate': {
        if (typeof cmd.expression !== 'string' || cmd.expression.length > MAX_EXPR) throw new Error('bad expression');
        const vm = this.vm;
        if (!vm || vm.isDead) throw new Error('no VM');
        if (!paused && vm.isRunning) notStopped();
        const f = cmd.frame !== undefined ? this.frames.get(cmd.frame) : undefined;
        const L = paused ? (this.stopL as LuaState) : vm.L;
        const r = this.callH(L, 'eval', [f ? f.thread : null, f ? f.level : 0, cmd.expression, false]);
        if (r[0] !== true) throw new Error(String(r[1] ?? 'error'));
        this.reply(cmd.seq, true, { value: String(r[1]), type: String(r[2]), ref: Number(r[3] ?? 0) });
        return false;
      }
      case 'continue':
        this.reply(cmd.seq, true, {});
        return paused;
      case 'next':
      case 'stepIn':
      case 'stepOut': {
        this.reply(cmd.seq, true, {});
        if (!paused) return false;
        if (this.stopInfo?.reason === 'exception') return true; // the thread is dead: run on
        const kind = cmd.c === 'next' ? 'over' : cmd.c === 'stepIn' ? 'in' : 'out';
        const depth = Number(this.callH(this.stopL as LuaState, 'depth', [cmd.thread])[0] ?? 0);
        this.setStep({ kind, thread: cmd.thread, depth });
        return true;
      }
      case 'pause':
        this.reply(cmd.seq, true, {});
        return false;
      case 'detach':
        this.clientBps.clear();
        this.bps.clear();
        this.bpLines.clear();
        this.exceptions = false;
        if (this.step?.kind !== 'entry') this.step = null;
        this.updateMask();
        this.reply(cmd.seq, true, {});
        return paused;
      default:
        throw new Error(`unknown debugger command ${(cmd as { c: string }).c}`);
    }
  }

  // ------------------------------------------------------------------ stopping

  private pause(L: LuaState, stop: StopEvent): void {
    const vm = this.vm;
    if (!vm || this.inPause) return;
    this.inPause = true;
    this.stopL = L;
    this.stopInfo = stop;
    this.frames.clear();
    this.scopes.clear();
    this.frameSeq = 0;
    this.link.pauseRequested(); // a pause request is answered by this stop
    this.device.clock.pause?.();
    vm.debugPaused(true);
    this.link.paused(true);
    this.link.post({ e: 'stopped', stop });
    try {
      for (;;) {
        const cmd = this.link.receive(1000);
        if (!cmd) continue;
        // while a command runs Lua (an evaluation) the device counts as running: one that
        // never ends is a runaway the supervisor ends as the hardware watchdog would
        this.link.paused(false);
        this.device.resumeObserver?.(true);
        let resume: boolean;
        try {
          resume = this.handle(cmd);
        } finally {
          this.device.resumeObserver?.(false);
          this.link.paused(true);
        }
        if (resume) break;
      }
    } finally {
      try {
        this.callH(L, 'reset', []);
      } catch {
        /* the state is going away */
      }
      this.frames.clear();
      this.scopes.clear();
      this.stopL = null;
      this.stopInfo = null;
      this.link.paused(false);
      vm.debugPaused(false);
      this.device.clock.resume?.();
      this.inPause = false;
      this.link.post({ e: 'continued' });
    }
  }

  private setStep(s: Step | null): void {
    this.step = s;
    this.updateMask();
  }

  private updateMask(force = false): void {
    const m = this.step || this.bpLines.size > 0 ? LUA_MASKLINE : 0;
    if (m === this.mask && !force) return;
    this.mask = m;
    const vm = this.vm;
    if (!vm || vm.isDead) return;
    // every thread: the helper knows them by id
    const { e } = vm;
    const L = this.inPause && this.stopL ? this.stopL : vm.L;
    const ids = this.threads().map((t) => t.id);
    for (const id of ids) {
      if (!this.pushH(L, 'thread')) return;
      e.pushinteger(L, id);
      if (e.pcall(L, 1, 1, 0) === LUA_OK && e.type(L, -1) === LUA_TTHREAD) {
        const T = e.tothread(L, -1) as LuaState;
        vm.refreshHook(T, L, -1);
      }
      e.pop(L, 1);
    }
  }

  // ------------------------------------------------------------------ breakpoints and sources

  private mapFiles(): void {
    const vfs = this.device.vfs;
    const out: Array<{ path: string; name: string; real: string }> = [];
    const seen = new Set<string>();
    const add = (name: string, host: string | null) => {
      if (!host || seen.has(name) || !name.endsWith('.lua')) return;
      seen.add(name);
      let real = host;
      try {
        real = fs.realpathSync(host);
      } catch {
        /* keep it */
      }
      out.push({ path: host, name, real });
    };
    for (const n of vfs.luadbNames()) add(n, vfs.resolve('/luadb/' + n).host);
    this.files = out;
  }

  private sourceOf(p: string): string | null {
    let real = p;
    try {
      real = fs.realpathSync(p);
    } catch {
      /* compare as given */
    }
    const f = this.files.find((x) => x.real === real || x.path === p);
    return f ? '@' + f.name : null;
  }

  private pathOf(source: string): string | undefined {
    if (!source.startsWith('@')) return undefined;
    const name = source.slice(1);
    const f = this.files.find((x) => x.name === name);
    if (f) return f.path;
    const b = this.device.vfs.resolve('/lua/' + name).host;
    return b ?? undefined;
  }

  private setBreakpoints(p: string, list: SourceBreakpoint[]): BreakpointState[] {
    const source = this.sourceOf(p);
    const old = source ? this.bps.get(source) : undefined;
    const result: BreakpointState[] = [];
    if (!source) {
      for (const b of list) result.push({ id: this.bpSeq++, line: Number(b.line) || 0, verified: false, message: 'not a file of the device (the script folder or a --lib folder)' });
      return result;
    }
    const m = new Map<number, Bp>();
    for (const b of list) {
      const line = Math.trunc(Number(b.line));
      if (!(line >= 1)) {
        result.push({ id: this.bpSeq++, line: 0, verified: false, message: 'bad line' });
        continue;
      }
      const prev = old?.get(line);
      const bp: Bp = {
        id: prev?.id ?? this.bpSeq++,
        line,
        condition: typeof b.condition === 'string' && b.condition.trim() ? b.condition.slice(0, MAX_EXPR) : undefined,
        hitCondition: typeof b.hitCondition === 'string' && b.hitCondition.trim() ? b.hitCondition : undefined,
        logMessage: typeof b.logMessage === 'string' && b.logMessage ? b.logMessage.slice(0, MAX_EXPR) : undefined,
        hits: prev && prev.condition === b.condition && prev.hitCondition === b.hitCondition ? prev.hits : 0,
      };
      m.set(line, bp);
      result.push({ id: bp.id, line, verified: true });
    }
    if (m.size) this.bps.set(source, m);
    else this.bps.delete(source);
    this.bpLines = new Set([...this.bps.values()].flatMap((x) => [...x.keys()]));
    return result;
  }

  // ------------------------------------------------------------------ introspection

  private threads(): ThreadInfo[] {
    const vm = this.vm;
    if (!vm || vm.isDead) return [{ id: 1, name: 'main' }];
    const L = this.inPause && this.stopL ? this.stopL : vm.L;
    const r = this.callH(L, 'threads', [this.stopInfo?.thread ?? 0]);
    const out: ThreadInfo[] = [];
    for (let i = 0; i + 1 < r.length; i += 2) out.push({ id: Number(r[i]), name: String(r[i + 1]) });
    return out;
  }

  private stack(thread: number): FrameInfo[] {
    const r = this.callH(this.stopL as LuaState, 'stack', [thread, 200]);
    const out: FrameInfo[] = [];
    for (let i = 0; i + 4 < r.length; i += 5) {
      const level = Number(r[i]);
      const src = String(r[i + 2]);
      const id = ++this.frameSeq;
      this.frames.set(id, { thread, level });
      const what = String(r[i + 4]);
      out.push({
        id,
        name: String(r[i + 1]),
        path: this.pathOf(src),
        source: what === 'C' ? '[C]' : src.replace(/^[@=]/, ''),
        line: Number(r[i + 3]),
      });
    }
    return out;
  }

  private variables(ref: number): VariableInfo[] {
    const L = this.stopL as LuaState;
    let r: JsLuaValue[];
    if (ref > SCOPE_BASE) {
      const s = this.scopes.get(ref);
      if (!s) throw new Error('no such scope');
      r = s.kind === 'globals' ? this.callH(L, 'globals', []) : this.callH(L, s.kind, [s.thread, s.level]);
    } else r = this.callH(L, 'children', [ref]);
    const out: VariableInfo[] = [];
    for (let i = 0; i + 3 < r.length; i += 4) out.push({ name: String(r[i]), value: String(r[i + 1]), type: String(r[i + 2]), ref: Number(r[i + 3]) });
    return out;
  }

  private pushH(L: LuaState, fn: string): boolean {
    const e = this.vm!.e;
    if (!this.href || !e.checkstack(L, 8)) return false;
    e.rawgeti(L, e.REGISTRYINDEX, this.href);
    e.getfield(L, -1, fn);
    e.remove(L, -2);
    return true;
  }

  /** Call helper function `fn` on thread L (protected); its results as JS values. */
  private callH(L: LuaState, fn: string, args: JsLuaValue[]): JsLuaValue[] {
    const vm = this.vm;
    if (!vm) return [];
    const e = vm.e;
    const top = e.gettop(L);
    if (!this.pushH(L, fn)) return [];
    pushValues(e, L, args);
    const st = e.pcall(L, args.length, LUA_MULTRET, 0);
    const out: JsLuaValue[] = [];
    if (st === LUA_OK) {
      for (let i = top + 1; i <= e.gettop(L); i++) {
        switch (e.type(L, i)) {
          case 1:
            out.push(e.toboolean(L, i));
            break;
          case 3:
            out.push(e.tonumber(L, i) as number);
            break;
          case 4:
            out.push(e.tostring(L, i) ?? '');
            break;
          default:
            out.push(null);
        }
      }
      e.settop(L, top);
      return out;
    }
    const msg = e.tostring(L, -1) ?? 'error';
    e.settop(L, top);
    throw new Error(`debugger: ${msg}`);
  }
}
