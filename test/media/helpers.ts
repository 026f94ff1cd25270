/**
 * Helpers for the Lua-level media tests (camera + rtmp bindings). Not a test file.
 */
import * as fs from 'node:fs';
import * as assert from 'node:assert/strict';
import { DirectNetwork, parseMapRule } from '../../runtime/net/direct';
import { parseFlv, videoTags } from '../rtmp/helpers/flv-file';
import { decodeAmf0, Amf0EcmaArray, type Amf0Object } from '../../runtime/media/rtmp/amf0';
import { pidsWithMarker } from '../camera/helpers';

/** A Lua preamble that configures the camera exactly as the reference demo does. */
export const DEMO_CAMERA_CONFIG = `
    camera.config(0, camera.CONF_UVC_FPS, 15)
    camera.config(0, camera.CONF_H264_QP_INIT, 40)
    camera.config(0, camera.CONF_H264_QP_I_MAX, 40)
    camera.config(0, camera.CONF_H264_QP_P_MAX, 25)
    camera.config(0, camera.CONF_H264_IMB_BITS, 8)
    camera.config(0, camera.CONF_H264_PMB_BITS, 4)
    camera.config(0, camera.CONF_H264_PFRAME_NUMS, 29)
`;

/** A device network that maps `host` to the local server (as `--map host=127.0.0.1:port`). */
export function mappedNetwork(host: string, port: number): DirectNetwork {
  return new DirectNetwork([parseMapRule(`${host}=127.0.0.1:${port}`)]);
}

export interface RecordingInfo {
  frames: { timestamp: number; keyframe: boolean }[];
  keyIndexes: number[];
  meta?: Amf0Object;
  seqHeaders: number;
}

/** Read an FLV recording of the NMS child: video frames, key frame positions, onMetaData. */
export function readRecording(file: string): RecordingInfo {
  const flv = parseFlv(fs.readFileSync(file));
  const v = videoTags(flv.tags);
  const frames = v.filter((t) => t.avcPacketType === 1).map((t) => ({ timestamp: t.timestamp, keyframe: t.keyframe }));
  const keyIndexes = frames.map((f, i) => (f.keyframe ? i : -1)).filter((i) => i >= 0);
  let meta: Amf0Object | undefined;
  const script = flv.tags.find((t) => t.type === 18);
  if (script) {
    const vals = decodeAmf0(script.data);
    const m = vals.find((x) => x instanceof Amf0EcmaArray || (x !== null && typeof x === 'object'));
    meta = m instanceof Amf0EcmaArray ? m.props : (m as Amf0Object);
  }
  return { frames, keyIndexes, meta, seqHeaders: v.filter((t) => t.avcPacketType === 0).length };
}

/** Index of the first log line containing `text` (-1 when missing). */
export function lineIndex(lines: string[], text: string | RegExp, from = 0): number {
  for (let i = from; i < lines.length; i++) {
    if (typeof text === 'string' ? lines[i].includes(text) : text.test(lines[i])) return i;
  }
  return -1;
}

/** Assert these texts appear in this order in the log. */
export function assertOrder(lines: string[], texts: (string | RegExp)[]): void {
  let at = -1;
  for (const t of texts) {
    const i = lineIndex(lines, t, at + 1);
    assert.ok(i > at, `log line ${String(t)} after line ${at}:\n${lines.slice(Math.max(0, at - 3), at + 8).join('\n')}`);
    at = i;
  }
}

/** ms-since-boot of a `luat:X(ms):` log line. */
export function lineMs(line: string): number {
  const m = /luat:[A-Z]\((\d+)\)/.exec(line);
  return m ? Number(m[1]) : NaN;
}

/** Wait until no process with `marker` on its command line is left (ffmpeg children). */
export async function assertNoProcesses(marker: string, timeoutMs = 4000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (pidsWithMarker(marker).length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(pidsWithMarker(marker), [], `no process left with ${marker}`);
}
