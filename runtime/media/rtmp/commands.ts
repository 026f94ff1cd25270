/**
 * NetConnection / NetStream commands (AMF0 command messages, type 20) and helpers to read the
 * server's replies.
 */
import { Amf0EcmaArray, decodeAmf0, encodeAmf0, type Amf0Object, type Amf0Value } from './amf0';
import { CSID, MSG, type RtmpMessage } from './messages';
import type { VideoStreamInfo } from '../types';

export function commandMessage(name: string, txId: number, args: Amf0Value[], streamId = 0, csid: number = CSID.COMMAND): RtmpMessage {
  return { csid, type: MSG.COMMAND_AMF0, streamId, timestamp: 0, payload: encodeAmf0(name, txId, ...args) };
}

export interface ConnectParams {
  app: string;
  tcUrl: string;
  flashVer: string;
  /** extra properties merged into the command object */
  extra?: Amf0Object;
}

export function connectCommand(txId: number, p: ConnectParams): RtmpMessage {
  const obj: Amf0Object = { app: p.app, type: 'nonprivate', flashVer: p.flashVer, tcUrl: p.tcUrl, ...(p.extra ?? {}) };
  return commandMessage('connect', txId, [obj]);
}

/** `@setDataFrame onMetaData {…}` (data message, type 18) with the real stream parameters. */
export function metadataMessage(streamId: number, info: VideoStreamInfo | undefined, encoder: string): RtmpMessage {
  const props: Amf0Object = { duration: 0 };
  if (info) {
    props.width = info.width;
    props.height = info.height;
    props.videodatarate = info.videodatarate;
    props.framerate = info.framerate;
  }
  props.videocodecid = info?.videocodecid ?? 7;
  props.encoder = info?.encoder ?? encoder;
  return {
    csid: CSID.DATA,
    type: MSG.DATA_AMF0,
    streamId,
    timestamp: 0,
    payload: encodeAmf0('@setDataFrame', 'onMetaData', new Amf0EcmaArray(props)),
  };
}

export interface ParsedCommand {
  name: string;
  txId: number;
  /** the command object (often null) */
  object: Amf0Value;
  /** remaining arguments (info object for onStatus / _result of connect, stream id of createStream) */
  args: Amf0Value[];
}

/** Decode a command message (AMF0 type 20, or AMF3 type 17 whose body starts with a 0x00 switch byte). */
export function parseCommand(msg: RtmpMessage): ParsedCommand {
  let body = msg.payload;
  if (msg.type === MSG.COMMAND_AMF3 && body.length > 0 && body[0] === 0) body = body.subarray(1);
  const values = decodeAmf0(body);
  const name = values[0];
  if (typeof name !== 'string') throw new Error('command message without a name');
  const tx = values[1];
  return {
    name,
    txId: typeof tx === 'number' && Number.isFinite(tx) ? tx : 0,
    object: values.length > 2 ? values[2] : null,
    args: values.slice(3),
  };
}

export interface StatusInfo {
  level?: string;
  code?: string;
  description?: string;
}

/** The info object of onStatus/_result/_error (first plain object among the arguments). */
export function statusInfo(cmd: ParsedCommand): StatusInfo {
  for (const v of [...cmd.args, cmd.object]) {
    if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)) {
      const o = v instanceof Amf0EcmaArray ? v.props : (v as Amf0Object);
      const str = (x: Amf0Value) => (typeof x === 'string' ? x : undefined);
      if ('code' in o || 'level' in o || 'description' in o) {
        return { level: str(o.level), code: str(o.code), description: str(o.description) };
      }
    }
  }
  return {};
}

export function describeStatus(s: StatusInfo): string {
  const parts = [s.code, s.description].filter((x) => x && x.length > 0);
  return parts.length > 0 ? parts.join(': ') : 'no description';
}
