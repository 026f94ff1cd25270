import type { EncodedVideoFrame } from '../../../runtime/media/types';
import { RtmpPublisher, RtmpState, type RtmpLogEvent, type RtmpPublisherOptions } from '../../../runtime/media/rtmp';
import { splitAnnexB, splitAvcc } from '../../../runtime/media/codec/h264';
import { delay } from './net-util';
import { parseFlv, videoTags, type VideoTagInfo } from './flv-file';
import { decodeAmf0, Amf0EcmaArray, type Amf0Object } from '../../../runtime/media/rtmp/amf0';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';

export interface Recorder {
  states: { s: RtmpState; old: RtmpState; code?: number; reason?: string; t: number }[];
  logs: { level: string; module: string; msg: string }[];
}

export function record(pub: RtmpPublisher): Recorder {
  const r: Recorder = { states: [], logs: [] };
  pub.on('state', (s: RtmpState, old: RtmpState, code?: number, reason?: string) => r.states.push({ s, old, code, reason, t: Date.now() }));
  pub.on('log', (ev: RtmpLogEvent) => r.logs.push({ level: ev.level, module: ev.module, msg: ev.text }));
  return r;
}

export function waitState(pub: RtmpPublisher, want: RtmpState, timeoutMs = 10_000): Promise<void> {
  if (pub.state === want) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pub.off('state', on);
      reject(new Error(`state ${want} not reached within ${timeoutMs} ms (now ${pub.state})`));
    }, timeoutMs);
    const on = (s: RtmpState) => {
      if (s === want) {
        clearTimeout(timer);
        pub.off('state', on);
        resolve();
      }
    };
    pub.on('state', on);
  });
}

export async function connectAndPublish(url: string, opts: RtmpPublisherOptions = {}): Promise<{ pub: RtmpPublisher; rec: Recorder }> {
  const pub = new RtmpPublisher(url, { statsIntervalMs: 0, ...opts });
  const rec = record(pub);
  assert.equal(pub.connect(), true);
  pub.start();
  await waitState(pub, RtmpState.PUBLISHING, 10_000);
  return { pub, rec };
}

/** Feed frames; `speed` 1 = real time (by dts), 0 = as fast as possible (yielding every few frames). */
export async function feed(pub: RtmpPublisher, frames: EncodedVideoFrame[], speed = 1, onFrame?: (i: number, t: number) => void): Promise<number[]> {
  const sendTimes: number[] = [];
  const t0 = Date.now();
  for (let i = 0; i < frames.length; i++) {
    if (speed > 0) {
      const due = t0 + (frames[i].dts - frames[0].dts) / speed;
      const wait = due - Date.now();
      if (wait > 0) await delay(wait);
    } else if (i % 4 === 0) await delay(0);
    const t = Date.now();
    sendTimes.push(t);
    pub.pushVideo(frames[i]);
    onFrame?.(i, t);
  }
  return sendTimes;
}

/** NAL units that must arrive for an access unit (what the packetizer keeps). */
export function expectedNals(au: Buffer): Buffer[] {
  return splitAnnexB(au).filter((n) => ![7, 8, 9].includes(n[0] & 0x1f));
}

export interface FlvCheck {
  frames: VideoTagInfo[];
  seqHeaders: VideoTagInfo[];
  meta?: Amf0Object;
}

/** Check a recording: sequence header first, frames identical to what was sent, timestamps strictly increasing. */
export function checkRecording(file: string, sent: EncodedVideoFrame[], opts: { tsBase?: number; exactTs?: boolean } = {}): FlvCheck {
  const flv = parseFlv(fs.readFileSync(file));
  const v = videoTags(flv.tags);
  const seqHeaders = v.filter((t) => t.avcPacketType === 0);
  const frames = v.filter((t) => t.avcPacketType === 1);
  assert.ok(seqHeaders.length >= 1, 'a sequence header was recorded');
  assert.equal(v[0].avcPacketType, 0, 'sequence header comes first');
  assert.equal(frames.length, sent.length, `every frame delivered (${frames.length}/${sent.length})`);
  for (let i = 0; i < frames.length; i++) {
    const got = splitAvcc(frames[i].data);
    const want = expectedNals(sent[i].data);
    assert.equal(got.length, want.length, `NAL count of frame ${i}`);
    for (let k = 0; k < got.length; k++) assert.ok(got[k].equals(want[k]), `NAL ${k} of frame ${i} identical`);
    assert.equal(frames[i].keyframe, sent[i].keyframe, `key flag of frame ${i}`);
    if (i > 0) assert.ok(frames[i].timestamp > frames[i - 1].timestamp, `timestamps strictly increasing at ${i}: ${frames[i - 1].timestamp} → ${frames[i].timestamp}`);
    if (opts.exactTs !== false) {
      const want = (opts.tsBase ?? 0) + Math.round(sent[i].dts - sent[0].dts);
      assert.equal(frames[i].timestamp, want >>> 0, `timestamp of frame ${i}`);
    }
  }
  let meta: Amf0Object | undefined;
  const script = flv.tags.find((t) => t.type === 18);
  if (script) {
    const vals = decodeAmf0(script.data);
    const m = vals.find((x) => x instanceof Amf0EcmaArray || (x !== null && typeof x === 'object'));
    meta = m instanceof Amf0EcmaArray ? m.props : (m as Amf0Object);
  }
  return { frames, seqHeaders, meta };
}

export function trackProcessFaults(): { check(): void; dispose(): void } {
  const faults: unknown[] = [];
  const onRej = (e: unknown) => faults.push(e);
  const onExc = (e: unknown) => faults.push(e);
  process.on('unhandledRejection', onRej);
  process.on('uncaughtException', onExc);
  return {
    check() {
      assert.deepEqual(faults, [], 'no unhandled rejection / uncaught exception');
    },
    dispose() {
      process.off('unhandledRejection', onRej);
      process.off('uncaughtException', onExc);
    },
  };
}
