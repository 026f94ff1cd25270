/**
 * States, error codes and error classes of the RTMP publisher.
 *
 * The numbers follow the Air8101 firmware's `luat_rtmp_push.h` (Jan/Feb 2026 numbering,
 * which has no DISCONNECTED state: ERROR is 6) so a Lua binding can hand them through unchanged.
 */

/** Publisher state, numbered as the firmware's `RTMP_STATE_*`. */
export enum RtmpState {
  IDLE = 0,
  CONNECTING = 1,
  HANDSHAKING = 2,
  CONNECTED = 3,
  PUBLISHING = 4,
  DISCONNECTING = 5,
  ERROR = 6,
}

/** Error codes, numbered as the firmware's `RTMP_ERR_*` C codes. */
export enum RtmpErrorCode {
  OK = 0,
  FAILED = -1,
  INVALID_PARAM = -2,
  NO_MEMORY = -3,
  CONNECT_FAILED = -4,
  HANDSHAKE_FAILED = -5,
  NETWORK = -6,
  TIMEOUT = -7,
  BUFFER_OVERFLOW = -8,
}

/** An error with a firmware error code attached. */
export class RtmpError extends Error {
  readonly code: RtmpErrorCode;
  constructor(code: RtmpErrorCode, message: string) {
    super(message);
    this.name = 'RtmpError';
    this.code = code;
  }
}

/** Bad `rtmp://` URL. */
export class RtmpUrlError extends RtmpError {
  constructor(message: string) {
    super(RtmpErrorCode.INVALID_PARAM, message);
    this.name = 'RtmpUrlError';
  }
}

/** Malformed AMF0 data (truncated, unknown marker, too deep, too large). */
export class Amf0DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Amf0DecodeError';
  }
}

/** Malformed chunk stream from the peer (bad header, absurd sizes, protocol violation). */
export class RtmpProtocolError extends RtmpError {
  constructor(message: string) {
    super(RtmpErrorCode.FAILED, message);
    this.name = 'RtmpProtocolError';
  }
}
