/**
 * Media send queue with an OBS-style drop policy.
 *
 * Holds whole RTMP messages that have not been handed to the socket yet (what has been handed over
 * is "on the wire" from the queue's point of view; the publisher stops handing over while the
 * socket reports backpressure). The queue duration is measured in media time: newest enqueued
 * dts − oldest queued dts. When it exceeds `dropThresholdMs` on the arrival of a non-key video
 * frame, every queued non-key video frame is dropped and further non-key frames are dropped until
 * the next key frame, so what goes out always decodes (a P frame is only sent when every frame
 * since its IDR was sent). Key frames, sequence headers, metadata and audio are never dropped.
 * A byte cap refuses new non-key frames when the queue is full of undroppable messages.
 *
 * The queue is codec-agnostic: `kind` says what a message is, `key` whether it starts a
 * decodable sequence (IDR / sequence header).
 */
import type { RtmpMessage } from './messages';

export type MediaKind = 'video' | 'audio' | 'video-config' | 'audio-config' | 'metadata';

export interface QueuedMedia {
  kind: MediaKind;
  /** key frame (video) or configuration record: never dropped */
  key: boolean;
  /** rebased media timestamp, ms */
  dts: number;
  msg: RtmpMessage;
  /** when it was queued (ms, publisher clock) */
  queuedAt: number;
}

export interface DropPolicyOptions {
  /** queue duration above which non-key video is dropped (default 700 ms, as OBS) */
  dropThresholdMs?: number;
  /** bytes (payloads) above which new non-key frames are refused (default 4 MiB) */
  maxQueueBytes?: number;
}

export interface DropInfo {
  item: QueuedMedia;
  reason: 'congestion' | 'wait-key' | 'overflow';
}

export class SendQueue {
  private items: QueuedMedia[] = [];
  private head = 0;
  private _bytes = 0;
  /** after a drop: drop non-key video until the next key frame */
  private dropUntilKey = false;
  private newestDts: number | undefined;
  readonly dropThresholdMs: number;
  readonly maxQueueBytes: number;

  constructor(opts: DropPolicyOptions = {}) {
    this.dropThresholdMs = opts.dropThresholdMs ?? 700;
    this.maxQueueBytes = opts.maxQueueBytes ?? 4 * 1024 * 1024;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this._bytes;
  }

  get waitingForKey(): boolean {
    return this.dropUntilKey;
  }

  /**
   * Media time span of what is waiting, ms: newest dts − oldest dts still queued or, when given,
   * still buffered in the socket (`oldestUnflushedDts`, written but not yet flushed).
   */
  durationMs(oldestUnflushedDts?: number): number {
    const oldest = this.oldestDts(oldestUnflushedDts);
    if (oldest === undefined || this.newestDts === undefined) return 0;
    return Math.max(0, this.newestDts - oldest);
  }

  private oldestDts(oldestUnflushedDts?: number): number | undefined {
    const q = this.length > 0 ? this.items[this.head].dts : undefined;
    if (q === undefined) return oldestUnflushedDts;
    return oldestUnflushedDts === undefined ? q : Math.min(q, oldestUnflushedDts);
  }

  /**
   * Queue a message, applying the drop policy. Returns the messages dropped (possibly including
   * `item` itself, then with reason 'wait-key', 'congestion' or 'overflow').
   */
  enqueue(item: QueuedMedia, oldestUnflushedDts?: number): DropInfo[] {
    const dropped: DropInfo[] = [];
    const droppable = item.kind === 'video' && !item.key;
    if (item.kind === 'video' && item.key) this.dropUntilKey = false;
    if (droppable && this.dropUntilKey) {
      dropped.push({ item, reason: 'wait-key' });
      return dropped;
    }
    const newest = this.newestDts === undefined ? item.dts : Math.max(this.newestDts, item.dts);
    const oldest = this.oldestDts(oldestUnflushedDts);
    if (droppable && oldest !== undefined && newest - oldest > this.dropThresholdMs) {
      // congested: drop every queued non-key video frame and this one; resume at the next IDR
      this.removeWhere((q) => q.kind === 'video' && !q.key, dropped, 'congestion');
      this.dropUntilKey = true;
      this.newestDts = newest;
      dropped.push({ item, reason: 'congestion' });
      return dropped;
    }
    if (droppable && this._bytes + item.msg.payload.length > this.maxQueueBytes) {
      this.dropUntilKey = true;
      dropped.push({ item, reason: 'overflow' });
      return dropped;
    }
    this.items.push(item);
    this._bytes += item.msg.payload.length;
    this.newestDts = newest;
    return dropped;
  }

  private removeWhere(pred: (q: QueuedMedia) => boolean, out: DropInfo[], reason: DropInfo['reason']): void {
    const keep: QueuedMedia[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const q = this.items[i];
      if (pred(q)) {
        out.push({ item: q, reason });
        this._bytes -= q.msg.payload.length;
      } else keep.push(q);
    }
    this.items = keep;
    this.head = 0;
  }

  peek(): QueuedMedia | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  shift(): QueuedMedia | undefined {
    if (this.head >= this.items.length) return undefined;
    const q = this.items[this.head++];
    this._bytes -= q.msg.payload.length;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return q;
  }

  /** Remove everything (returns what was removed); resets the drop state. */
  clear(): QueuedMedia[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this._bytes = 0;
    this.dropUntilKey = false;
    this.newestDts = undefined;
    return rest;
  }
}
