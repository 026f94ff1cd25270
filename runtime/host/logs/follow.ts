/**
 * Following a growing log file (`luatos logs --follow`), like `tail -F`.
 *
 * Polls the file every `pollMs` (default 250 ms) and also wakes early on fs.watch events where
 * the platform has them. Reads from where it left off (from the start, or the end with
 * `fromEnd`). Handles:
 * - truncation (the file got shorter than what was read): starts again from its beginning;
 * - rotation (the path now names another file, e.g. Luatools or logrotate moved it away and
 *   started a new one): reads what is left of the old file, then follows the new one from its start;
 * - the path missing for a while (between a move and the new file): keeps waiting.
 * Stops when the signal aborts; resolves after the last data was handed over.
 */
import * as fs from 'node:fs';

export interface FollowOptions {
  /** called with each new chunk of bytes, in order */
  onData: (chunk: Buffer) => void | Promise<void>;
  /** the file was truncated or replaced; data from its start follows */
  onReset?: (why: 'truncated' | 'rotated') => void | Promise<void>;
  /** a poll found nothing new (the writer is idle) */
  onIdle?: () => void | Promise<void>;
  signal: AbortSignal;
  pollMs?: number;
  /** start at the current end instead of the start */
  fromEnd?: boolean;
}

const CHUNK = 64 * 1024;

export async function followFile(file: string, opts: FollowOptions): Promise<void> {
  const pollMs = opts.pollMs ?? 250;
  let fd = fs.openSync(file, 'r');
  let st = fs.fstatSync(fd);
  let pos = opts.fromEnd ? st.size : 0;
  let watcher: fs.FSWatcher | null = null;
  let wake: (() => void) | null = null;
  const buf = Buffer.alloc(CHUNK);

  const watch = (): void => {
    try {
      watcher?.close();
    } catch {
      /* already closed */
    }
    watcher = null;
    try {
      watcher = fs.watch(file, { persistent: false }, () => wake?.());
      watcher.on('error', () => {
        /* polling still runs */
      });
    } catch {
      watcher = null; // no watch support here: polling alone
    }
  };
  watch();

  /** Read everything available from fd at pos; returns bytes read. */
  const drain = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, pos);
      if (n <= 0) break;
      pos += n;
      total += n;
      await opts.onData(Buffer.from(buf.subarray(0, n)));
      if (opts.signal.aborted) break;
    }
    return total;
  };

  const sleep = (): Promise<void> =>
    new Promise((resolve) => {
      if (opts.signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(t);
        opts.signal.removeEventListener('abort', done);
        wake = null;
        resolve();
      };
      const t = setTimeout(done, pollMs);
      wake = done;
      opts.signal.addEventListener('abort', done, { once: true });
    });

  try {
    while (!opts.signal.aborted) {
      const got = await drain();
      if (opts.signal.aborted) break;
      let now: fs.Stats | null = null;
      try {
        now = fs.statSync(file);
      } catch {
        now = null; // moved away, new one not there yet
      }
      if (now && (now.ino !== st.ino || now.dev !== st.dev) && (now.ino !== 0 || st.ino !== 0)) {
        // rotated: finish the old file, then switch
        let nfd: number | null = null;
        try {
          nfd = fs.openSync(file, 'r');
        } catch {
          nfd = null; // gone again between stat and open: try on the next round
        }
        if (nfd === null) {
          await sleep();
          continue;
        }
        await drain();
        fs.closeSync(fd);
        fd = nfd;
        st = fs.fstatSync(fd);
        pos = 0;
        watch();
        await opts.onReset?.('rotated');
        continue;
      }
      const size = fs.fstatSync(fd).size;
      if (size < pos) {
        pos = 0;
        await opts.onReset?.('truncated');
        continue;
      }
      if (got === 0) await opts.onIdle?.();
      await sleep();
    }
  } finally {
    try {
      (watcher as fs.FSWatcher | null)?.close();
    } catch {
      /* ignore */
    }
    fs.closeSync(fd);
  }
}
