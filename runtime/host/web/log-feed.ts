/**
 * The web console's log sockets: the device log into the bounded history and, batched, to the
 * connected pages (a page too slow to keep up gets a `gap` message instead of the lines it
 * missed), console notes and other broadcasts, and a new page's greeting (hello, its share of
 * the history, the first status).
 */
import WebSocket from 'ws';
import type { LogLevel, LogRecord, LogSink } from '../../core/log';
import { LogHistory, toWire, type WireLine } from './log-history';

const MAX_BUFFERED = 16 * 1024 * 1024;
const HISTORY_CHUNK = 2000;

interface LogClient {
  ws: WebSocket;
  missed: number;
}

export class LogFeed {
  private readonly clients = new Set<LogClient>();
  private pending: WireLine[] = [];
  private batchTimer: NodeJS.Timeout | null = null;
  private readonly unsubscribe: () => void;

  constructor(
    sink: Pick<LogSink, 'on'>,
    readonly history: LogHistory,
    private readonly batchMs: number,
  ) {
    this.unsubscribe = sink.on((r: LogRecord, text: string) => {
      const e = history.push(r, text);
      if (!this.clients.size) return;
      this.pending.push(toWire(e));
      if (!this.batchTimer) this.batchTimer = setTimeout(this.flush, batchMs);
    });
  }

  get size(): number {
    return this.clients.size;
  }

  /** Send the batched lines now. */
  readonly flush = (): void => {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    if (!this.pending.length) return;
    const lines = this.pending;
    this.pending = [];
    if (!this.clients.size) return;
    const msg = JSON.stringify({ t: 'log', lines });
    for (const c of this.clients) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      if (c.ws.bufferedAmount > MAX_BUFFERED) {
        c.missed += lines.length;
        continue;
      }
      if (c.missed) {
        c.ws.send(JSON.stringify({ t: 'gap', n: c.missed }));
        c.missed = 0;
      }
      c.ws.send(msg);
    }
  };

  /** A message to every page that keeps up. */
  broadcast(o: unknown): void {
    if (!this.clients.size) return;
    const msg = JSON.stringify(o);
    for (const c of this.clients) if (c.ws.readyState === WebSocket.OPEN && c.ws.bufferedAmount < MAX_BUFFERED) c.ws.send(msg);
  }

  /** A console event (boot, fault runs, ...), in order with the lines around it. */
  note(text: string, level: Exclude<LogLevel, 'D'> = 'I'): void {
    this.flush(); // keep notes in order with the lines around them
    this.broadcast({ t: 'note', text, level, time: Date.now() });
  }

  /** A new page: `hello` (merged into `hello`), the history after `since`, then `status`. */
  add(ws: WebSocket, since: number, hello: Record<string, unknown>, status: () => unknown): void {
    const { history } = this;
    const c: LogClient = { ws, missed: 0 };
    this.flush(); // lines pending so far reach the others first; this page gets them from history
    this.clients.add(c);
    ws.on('close', () => this.clients.delete(c));
    ws.on('error', () => this.clients.delete(c));
    ws.on('message', () => {}); // the page does not talk on this socket
    ws.send(JSON.stringify({ ...hello, gap: since > 0 && since < history.firstSeq - 1 ? history.firstSeq - 1 - since : 0 }));
    const entries = history.since(since);
    for (let i = 0; i < entries.length; i += HISTORY_CHUNK) {
      ws.send(JSON.stringify({ t: 'log', history: true, lines: entries.slice(i, i + HISTORY_CHUNK).map(toWire) }));
    }
    ws.send(JSON.stringify(status()));
  }

  /** Stop: no more capture, the pages' sockets ended. */
  close(): void {
    this.unsubscribe();
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    this.pending = [];
  }

  terminateAll(): void {
    for (const c of this.clients) c.ws.terminate();
  }
}
