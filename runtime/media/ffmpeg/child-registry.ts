/**
 * Registry of helper child processes (ffmpeg encoders, capture one-shots, …) so that none of them
 * outlives this Node process.
 *
 * Layers of protection:
 *  1. Owners stop their children themselves (`killTree`), normally with SIGTERM then SIGKILL.
 *  2. Every child spawned with {@link spawnTracked} is recorded; on `process.on('exit')` (which
 *     also fires after an uncaught exception), on `uncaughtExceptionMonitor`, and on SIGINT /
 *     SIGTERM / SIGHUP all recorded children are SIGKILLed synchronously. For the signals, when
 *     nobody else listens for that signal, the registry then re-raises it so the process still
 *     dies the default way (exit code 130 for Ctrl-C, …); when the application has its own
 *     handler, the registry leaves the decision to exit to it.
 *  3. Hard death of Node (SIGKILL, OOM killer) runs no JavaScript. On POSIX each child gets a
 *     watchdog: a tiny `/bin/sh` loop reading a pipe whose write end only this Node process holds.
 *     When Node dies the kernel closes the pipe, `read` sees EOF and the watchdog SIGKILLs the
 *     child's process group. (ffmpeg itself does not exit on stdin EOF — measured with 4.1 — so
 *     stdin cannot serve as the tether; and a child writing to stdout only notices a dead
 *     reader at its next write after its output buffer flushes.) The watchdog is unref'd, costs
 *     one `sh` process (~1 MB) and is killed as soon as its child exits.
 *     On Windows there is no watchdog: layers 1–2 plus the broken stdout pipe apply.
 *
 * On POSIX children are spawned `detached` (own process group, pgid = pid): a Ctrl-C in the
 * terminal then reaches only Node, which tears the children down in order instead of every
 * ffmpeg dying on its own at the same moment; and killing `-pid` reaches any grandchildren.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const isWindows = process.platform === 'win32';

interface Entry {
  child: ChildProcess;
  name: string;
  watchdog?: ChildProcess;
  group: boolean;
}

const entries = new Map<ChildProcess, Entry>();
let hooksInstalled = false;

function sendSignal(e: Entry, signal: NodeJS.Signals): void {
  const pid = e.child.pid;
  if (pid === undefined) return;
  if (e.child.exitCode !== null || e.child.signalCode !== null) return;
  try {
    if (e.group) process.kill(-pid, signal);
    else e.child.kill(signal);
  } catch {
    try {
      e.child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function killWatchdog(e: Entry): void {
  const w = e.watchdog;
  if (!w || w.pid === undefined) return;
  if (w.exitCode !== null || w.signalCode !== null) return;
  try {
    w.kill('SIGKILL');
  } catch {
    /* gone */
  }
}

/** SIGKILL every tracked child (and its watchdog). Synchronous; returns how many were signalled. */
export function killAllChildren(signal: NodeJS.Signals = 'SIGKILL'): number {
  let n = 0;
  for (const e of entries.values()) {
    sendSignal(e, signal);
    killWatchdog(e);
    n++;
  }
  return n;
}

const SIGNALS: NodeJS.Signals[] = isWindows ? ['SIGINT', 'SIGTERM', 'SIGBREAK' as NodeJS.Signals] : ['SIGINT', 'SIGTERM', 'SIGHUP'];

function onSignal(signal: NodeJS.Signals): void {
  killAllChildren('SIGKILL');
  if (process.listenerCount(signal) <= 1) {
    // Nobody else handles it: restore the default action and re-raise.
    process.removeListener(signal, signalHandlers.get(signal)!);
    try {
      process.kill(process.pid, signal);
    } catch {
      process.exit(128 + 2);
    }
  }
}

const signalHandlers = new Map<NodeJS.Signals, () => void>();

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    killAllChildren('SIGKILL');
  });
  process.on('uncaughtExceptionMonitor', () => {
    killAllChildren('SIGKILL');
  });
  for (const s of SIGNALS) {
    const h = () => onSignal(s);
    signalHandlers.set(s, h);
    try {
      process.on(s, h);
    } catch {
      /* signal not supported on this platform */
    }
  }
}

// The watchdog script. $1 = pid (= process group id) of the child to guard. It reads its stdin
// (a pipe only the Node process writes to, and never does) until EOF, then kills the group.
const WATCHDOG_SCRIPT = 'while read -r _; do :; done; kill -9 -"$1" 2>/dev/null || kill -9 "$1" 2>/dev/null';

function startWatchdog(e: Entry): void {
  const pid = e.child.pid;
  if (pid === undefined || isWindows) return;
  let w: ChildProcess;
  try {
    w = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'luatos-child-watchdog', String(pid)], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true, // not in our process group: a terminal Ctrl-C must not kill it before it is needed
    });
  } catch {
    return;
  }
  w.on('error', () => {
    /* no /bin/sh: layers 1–2 still apply */
  });
  w.stdin?.on('error', () => {});
  // Do not let the watchdog (or its pipe) keep the event loop alive.
  w.unref();
  (w.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  e.watchdog = w;
}

export interface SpawnTrackedOptions extends SpawnOptions {
  /** label for diagnostics ({@link trackedChildren}) */
  name?: string;
  /** start a parent-death watchdog (POSIX only; default true) */
  watchdog?: boolean;
}

/**
 * `child_process.spawn` + registration. On POSIX the child is started in its own process group
 * (unless `detached: false` is passed explicitly) and with a watchdog. The entry is removed when
 * the child exits. Listen for the child's `error` event yourself (spawn failures).
 */
export function spawnTracked(command: string, args: readonly string[], options: SpawnTrackedOptions = {}): ChildProcess {
  installHooks();
  const { name, watchdog, ...spawnOpts } = options;
  const group = !isWindows && spawnOpts.detached !== false;
  if (group) spawnOpts.detached = true;
  const child = spawn(command, args as string[], spawnOpts);
  const e: Entry = { child, name: name ?? command, group };
  if (child.pid !== undefined) {
    entries.set(child, e);
    if (watchdog !== false) startWatchdog(e);
  }
  const done = () => {
    killWatchdog(e);
    entries.delete(child);
  };
  child.once('exit', done);
  child.once('error', () => {
    if (child.pid === undefined || child.exitCode !== null) done();
  });
  return child;
}

/** Register a child spawned elsewhere (no watchdog, no process group). Returns an unregister fn. */
export function trackChild(child: ChildProcess, name = 'child'): () => void {
  installHooks();
  const e: Entry = { child, name, group: false };
  entries.set(child, e);
  const done = () => entries.delete(child);
  child.once('exit', done);
  return done;
}

/**
 * Stop a tracked (or any) child: `signal` (default SIGTERM) to its process group, then SIGKILL
 * after `graceMs` (default 1500 ms) if it has not exited. Resolves when it has exited.
 */
export function killTree(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 1500): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const e = entries.get(child) ?? { child, name: 'child', group: false };
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (timer) clearTimeout(timer);
      resolve();
    };
    child.once('exit', finish);
    sendSignal(e, signal);
    if (signal !== 'SIGKILL') {
      timer = setTimeout(() => sendSignal(e, 'SIGKILL'), graceMs);
    }
  });
}

/** Currently tracked children (diagnostics and tests). */
export function trackedChildren(): { pid: number | undefined; name: string; watchdogPid?: number }[] {
  return [...entries.values()].map((e) => ({ pid: e.child.pid, name: e.name, watchdogPid: e.watchdog?.pid }));
}
