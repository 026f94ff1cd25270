/**
 * Messages between the debugger core in the device's thread (runtime/core/debug/core.ts) and its
 * clients on Node's main thread (runtime/host/debug/: the DAP server and the web console's
 * Debug panel). They travel over a MessagePort of their own: while the device is stopped its
 * thread is blocked inside the Lua hook and reads commands with `receiveMessageOnPort`, woken
 * by `Atomics.notify` on the shared word {@link DBG_WAKE}.
 *
 * Everything is structured-clone safe: plain objects, strings, numbers.
 */

/** Int32 slots of the shared debug buffer. */
export const DBG_WAKE = 0;
/** non-zero: stop at the next instruction the device runs (DAP `pause`) */
export const DBG_PAUSE = 1;
export const DBG_SLOTS = 2;

export interface SourceBreakpoint {
  line: number;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}

export interface BreakpointState {
  id: number;
  line: number;
  verified: boolean;
  message?: string;
}

export interface ThreadInfo {
  id: number;
  name: string;
}

export interface FrameInfo {
  /** thread id * 10000 + level: unique while stopped */
  id: number;
  name: string;
  /** host path of the source file, when it is one of the device's files */
  path?: string;
  /** the chunk name without '@' (`rtmp_app.lua`), or `[C]` */
  source: string;
  line: number;
}

export interface VariableInfo {
  name: string;
  value: string;
  type: string;
  /** > 0: expandable (a table), the reference for `variables` */
  ref: number;
}

export type ScopeInfo = { name: 'Locals' | 'Upvalues' | 'Globals'; ref: number; expensive: boolean };

export type StopReason = 'breakpoint' | 'step' | 'pause' | 'exception' | 'entry';

/** main thread -> device thread */
export type DebugCommand =
  | { c: 'setBreakpoints'; seq: number; path: string; breakpoints: SourceBreakpoint[] }
  | { c: 'setExceptions'; seq: number; uncaught: boolean }
  | { c: 'threads'; seq: number }
  | { c: 'stack'; seq: number; thread: number }
  | { c: 'scopes'; seq: number; frame: number }
  | { c: 'variables'; seq: number; ref: number }
  | { c: 'evaluate'; seq: number; frame?: number; expression: string }
  | { c: 'source'; seq: number; path: string }
  | { c: 'continue'; seq: number }
  | { c: 'next'; seq: number; thread: number }
  | { c: 'stepIn'; seq: number; thread: number }
  | { c: 'stepOut'; seq: number; thread: number }
  | { c: 'pause'; seq: number }
  | { c: 'state'; seq: number }
  /** the client went away: no breakpoints, no exception stops, run on */
  | { c: 'detach'; seq: number };

export interface DebugState {
  paused: boolean;
  stop?: StopEvent;
  /** the device's script files: host path -> luadb name */
  files: Array<{ path: string; name: string }>;
  breakpoints: Record<string, number[]>;
}

export interface StopEvent {
  reason: StopReason;
  thread: number;
  text?: string;
  /** breakpoint ids hit */
  hit?: number[];
}

/** device thread -> main thread */
export type DebugMessage =
  | { e: 'reply'; seq: number; ok: true; body: unknown }
  | { e: 'reply'; seq: number; ok: false; error: string }
  | { e: 'stopped'; stop: StopEvent }
  | { e: 'continued' }
  /** a logpoint fired */
  | { e: 'output'; text: string }
  /** the device booted again: frames and threads of the old boot are gone */
  | { e: 'boot'; n: number };
