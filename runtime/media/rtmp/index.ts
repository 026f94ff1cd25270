/** Native RTMP publisher (see publisher.ts for the protocol flow and events). */
export { RtmpPublisher, defaultSocketFactory } from './publisher';
export type { RtmpLogEvent } from './publisher';
export type { RtmpPublisherOptions, RtmpSocket, SocketFactory, LogLevel, DropEvent } from './publisher';
export { RtmpState, RtmpErrorCode, RtmpError, RtmpUrlError, RtmpProtocolError, Amf0DecodeError } from './errors';
export { parseRtmpUrl } from './url';
export type { RtmpUrl } from './url';
export { formatStatsLine } from './stats';
export type { RtmpStats } from './stats';
/** The socket-free protocol core and the transport the publisher composes. */
export { RtmpSession } from './session';
export type { RtmpSessionOptions, SessionEvent, SessionHost, SessionTimers } from './session';
export { RtmpTransport } from './transport';
