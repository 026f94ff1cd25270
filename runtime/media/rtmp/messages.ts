/**
 * RTMP message model, message type ids, and builders/parsers for protocol control and
 * user control messages.
 */

/** One RTMP message (what the chunk layer carries). */
export interface RtmpMessage {
  /** chunk stream id (2 = protocol control, 3 = commands, ...) */
  csid: number;
  /** message type id */
  type: number;
  /** message stream id (0 = NetConnection) */
  streamId: number;
  /** timestamp in ms, 32-bit (wraps at 2^32) */
  timestamp: number;
  payload: Buffer;
}

export const MSG = {
  SET_CHUNK_SIZE: 1,
  ABORT: 2,
  ACK: 3,
  USER_CONTROL: 4,
  WINDOW_ACK_SIZE: 5,
  SET_PEER_BANDWIDTH: 6,
  AUDIO: 8,
  VIDEO: 9,
  DATA_AMF3: 15,
  SHARED_OBJECT_AMF3: 16,
  COMMAND_AMF3: 17,
  DATA_AMF0: 18,
  SHARED_OBJECT_AMF0: 19,
  COMMAND_AMF0: 20,
  AGGREGATE: 22,
} as const;

export const USER_CONTROL = {
  STREAM_BEGIN: 0,
  STREAM_EOF: 1,
  STREAM_DRY: 2,
  SET_BUFFER_LENGTH: 3,
  STREAM_IS_RECORDED: 4,
  PING_REQUEST: 6,
  PING_RESPONSE: 7,
} as const;

/** Chunk stream ids used by this publisher (the same split as ffmpeg/OBS). */
export const CSID = {
  CONTROL: 2,
  COMMAND: 3,
  /** publish and other NetStream commands */
  STREAM_COMMAND: 5,
  DATA: 4,
  VIDEO: 6,
  AUDIO: 7,
} as const;

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
}

export function setChunkSizeMessage(size: number): RtmpMessage {
  return { csid: CSID.CONTROL, type: MSG.SET_CHUNK_SIZE, streamId: 0, timestamp: 0, payload: u32(size & 0x7fffffff) };
}

export function ackMessage(sequenceNumber: number): RtmpMessage {
  return { csid: CSID.CONTROL, type: MSG.ACK, streamId: 0, timestamp: 0, payload: u32(sequenceNumber) };
}

export function windowAckSizeMessage(size: number): RtmpMessage {
  return { csid: CSID.CONTROL, type: MSG.WINDOW_ACK_SIZE, streamId: 0, timestamp: 0, payload: u32(size) };
}

export function pingResponseMessage(timestamp: number): RtmpMessage {
  const p = Buffer.alloc(6);
  p.writeUInt16BE(USER_CONTROL.PING_RESPONSE, 0);
  p.writeUInt32BE(timestamp >>> 0, 2);
  return { csid: CSID.CONTROL, type: MSG.USER_CONTROL, streamId: 0, timestamp: 0, payload: p };
}

export interface UserControlEvent {
  event: number;
  /** first 4-byte parameter (stream id or ping timestamp), when present */
  value?: number;
}

export function parseUserControl(payload: Buffer): UserControlEvent | undefined {
  if (payload.length < 2) return undefined;
  const event = payload.readUInt16BE(0);
  return payload.length >= 6 ? { event, value: payload.readUInt32BE(2) } : { event };
}
