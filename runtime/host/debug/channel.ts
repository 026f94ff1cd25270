/**
 * The main thread's end of the debugger (`luatos run --inspect`): requests to the debugger core
 * in the device's thread (runtime/core/debug/core.ts) and its events, for every client on this
 * thread (the DAP server, the web console's Debug panel). It outlives the device thread: when
 * the supervisor starts a fresh one (runtime/host/worker/device-host.ts), the clients' breakpoints and
 * exception setting are sent again.
 *
 * A request is a message on the debugger's own MessagePort followed by a bump of the shared
 * wake word: a stopped device thread sleeps on it (Atomics.wait) between commands.
 */
import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  DBG_PAUSE,
  DBG_SLOTS,
  DBG_WAKE,
  type BreakpointState,
  type DebugCommand,
  type DebugMessage,
  type DebugState,
  type FrameInfo,
  type ScopeInfo,
  type SourceBreakpoint,
  type StopEvent,
  type ThreadInfo,
  type VariableInfo,
} from '../../core/debug/protocol';

/** How long a request may wait for the device thread's answer. */
const REQUEST_TIMEOUT_MS = 10_000;

type Body<C extends DebugCommand['c']> = Omit<Extract<DebugCommand, { c: C }>, 'seq'>;

export interface DebugChannelEvents {
  stopped: [StopEvent];
  continued: [];
  output: [string];
  boot: [number];
}

export class DebugChannel extends EventEmitter {
  private port: MessagePort | null = null;
  private flags: Int32Array | null = null;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; t: NodeJS.Timeout }>();
  /** the last stop, while the device is stopped */
  stop: StopEvent | null = null;
  private readonly breakpoints = new Map<string, SourceBreakpoint[]>();
  private exceptions = false;
  /** stop before main.lua: only the first device thread */
  private stopOnEntry: boolean;

  constructor(opts: { stopOnEntry?: boolean } = {}) {
    super();
    this.stopOnEntry = opts.stopOnEntry === true;
  }

  get paused(): boolean {
    return this.stop !== null;
  }

  /** A new device thread: what goes into its workerData (transfer `port`). */
  connect(): { port: MessagePort; flags: SharedArrayBuffer; stopOnEntry: boolean } {
    this.disconnect('a new device thread started');
    const ch = new MessageChannel();
    const sab = new SharedArrayBuffer(DBG_SLOTS * 4);
    this.flags = new Int32Array(sab);
    this.port = ch.port1;
    ch.port1.on('message', (m: DebugMessage) => this.onMessage(m));
    ch.port1.unref();
    const stopOnEntry = this.stopOnEntry;
    this.stopOnEntry = false;
    // the clients' settings, for the new thread (queued: read when it starts)
    for (const [p, list] of this.breakpoints) this.send({ c: 'setBreakpoints', seq: 0, path: p, breakpoints: list });
    if (this.exceptions) this.send({ c: 'setExceptions', seq: 0, uncaught: true });
    return { port: ch.port2, flags: sab, stopOnEntry };
  }

  /** The device thread is gone. */
  disconnect(why: string): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.t);
      p.reject(new Error(why));
    }
    this.pending.clear();
    this.port?.close();
    this.port = null;
    if (this.stop) {
      this.stop = null;
      this.emit('continued');
    }
  }

  private send(m: DebugCommand): void {
    if (!this.port || !this.flags) throw new Error('the device is not running');
    this.port.postMessage(m);
    Atomics.add(this.flags, DBG_WAKE, 1);
    Atomics.notify(this.flags, DBG_WAKE);
  }

  private request<T>(m: DebugCommand): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const seq = ++this.seq;
      const t = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error('the device did not answer the debugger'));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject, t });
      try {
        this.send({ ...m, seq } as DebugCommand);
      } catch (e) {
        clearTimeout(t);
        this.pending.delete(seq);
        reject(e as Error);
      }
    });
  }

  private onMessage(m: DebugMessage): void {
    switch (m.e) {
      case 'reply': {
        const p = this.pending.get(m.seq);
        if (!p) return;
        this.pending.delete(m.seq);
        clearTimeout(p.t);
        if (m.ok) p.resolve(m.body);
        else p.reject(new Error(m.error));
        return;
      }
      case 'stopped':
        this.stop = m.stop;
        this.emit('stopped', m.stop);
        return;
      case 'continued':
        this.stop = null;
        this.emit('continued');
        return;
      case 'output':
        this.emit('output', m.text);
        return;
      case 'boot':
        this.emit('boot', m.n);
        return;
    }
  }

  // ------------------------------------------------------------------ requests

  setBreakpoints(path: string, breakpoints: SourceBreakpoint[]): Promise<BreakpointState[]> {
    if (breakpoints.length) this.breakpoints.set(path, breakpoints);
    else this.breakpoints.delete(path);
    return this.request({ c: 'setBreakpoints', seq: 0, path, breakpoints } satisfies Body<'setBreakpoints'> & { seq: number });
  }
  /** the breakpoints the clients set, by file */
  breakpointsOf(path: string): SourceBreakpoint[] {
    return this.breakpoints.get(path) ?? [];
  }
  setExceptions(uncaught: boolean): Promise<void> {
    this.exceptions = uncaught;
    return this.request({ c: 'setExceptions', seq: 0, uncaught });
  }
  state(): Promise<DebugState> {
    return this.request({ c: 'state', seq: 0 });
  }
  threads(): Promise<ThreadInfo[]> {
    return this.request({ c: 'threads', seq: 0 });
  }
  stack(thread: number): Promise<FrameInfo[]> {
    return this.request({ c: 'stack', seq: 0, thread });
  }
  scopes(frame: number): Promise<ScopeInfo[]> {
    return this.request({ c: 'scopes', seq: 0, frame });
  }
  variables(ref: number): Promise<VariableInfo[]> {
    return this.request({ c: 'variables', seq: 0, ref });
  }
  evaluate(expression: string, frame?: number): Promise<{ value: string; type: string; ref: number }> {
    return this.request({ c: 'evaluate', seq: 0, expression, frame });
  }
  continue(): Promise<void> {
    return this.request({ c: 'continue', seq: 0 });
  }
  next(thread: number): Promise<void> {
    return this.request({ c: 'next', seq: 0, thread });
  }
  stepIn(thread: number): Promise<void> {
    return this.request({ c: 'stepIn', seq: 0, thread });
  }
  stepOut(thread: number): Promise<void> {
    return this.request({ c: 'stepOut', seq: 0, thread });
  }
  /** Stop the device where it is: at its next instruction, or at once when it is idle. */
  pause(): Promise<void> {
    if (this.flags) Atomics.store(this.flags, DBG_PAUSE, 1);
    return this.request({ c: 'pause', seq: 0 });
  }
  /** The last client left: no breakpoints, no exception stops, the device runs on. */
  detach(): Promise<void> {
    this.breakpoints.clear();
    this.exceptions = false;
    if (!this.port) return Promise.resolve();
    return this.request({ c: 'detach', seq: 0 });
  }
}
