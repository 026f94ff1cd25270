/**
 * Media types shared by the camera (producer) and the RTMP publisher (consumer).
 *
 * An encoded video frame is one H.264 access unit in Annex-B form, as the
 * Air8101's hardware encoder hands it to the RTMP component: NAL units separated
 * by start codes (3- or 4-byte), key frames carrying SPS + PPS + IDR.
 */
export interface EncodedVideoFrame {
  /** Annex-B bytes of one access unit. */
  data: Buffer;
  /** Decode timestamp in milliseconds, from the encoder's clock (not rebased). */
  dts: number;
  /** Presentation timestamp in milliseconds (equals dts: baseline, no B-frames). */
  pts: number;
  /** True when the access unit contains an IDR slice. */
  keyframe: boolean;
}

/** Stream parameters that go into onMetaData, taken from the camera configuration. */
export interface VideoStreamInfo {
  width: number;
  height: number;
  /** frames per second */
  framerate: number;
  /** target video bitrate in kbit/s */
  videodatarate: number;
  /** FLV codec id: 7 = AVC */
  videocodecid: number;
  encoder?: string;
}

/**
 * Level of a structured log event from the media libraries (the publisher, the camera): the
 * same letters as the device log's (runtime/core/log.ts); named here because media imports
 * nothing outside runtime/media. The bindings turn the events into device log lines.
 */
export type LogLevel = 'D' | 'I' | 'W' | 'E';
