/**
 * The device panel's figures, as the web console shows them (runtime/host/web/server.ts) and
 * runtime/host/status.ts fills them from the Device. Types only: both import this file, neither
 * the other.
 */

/** Memory figures in bytes, as `rtos.meminfo(kind)` returns them (total, used, max used). */
export interface MemoryUsage {
  total: number;
  used: number;
  max: number;
}

/** The publisher's figures (RtmpPublisher.getStats plus a frame rate). */
export interface RtmpStatusStats {
  /** average bit rate since the connection started, kbit/s */
  kbpsAvg: number;
  /** bit rate over the publisher's stats window (default 5 s), kbit/s */
  kbpsWindow: number;
  /** video frames sent per second (over the last second or the stats window) */
  fps: number;
  /** frames dropped since the connection started (cumulative; the chart plots the increase per second) */
  dropped: number;
  /** duration of the data waiting in the send queue, ms */
  queueMs: number;
  bytesSent?: number;
  videoFrames?: number;
}

/**
 * What the device panel shows; the CLI provides it (`status` option) once a second.
 * Unknown parts are null; the page shows "—" for them.
 */
export interface DeviceStatus {
  wifi: {
    /** 'off' | 'disconnected' | 'connecting' | 'connected' (others are shown as given) */
    state: string;
    ssid?: string | null;
    /** the station's IPv4 address while connected */
    ip: string | null;
    rssi?: number | null;
  };
  rtmp: {
    /** RtmpState number (0 IDLE, 1 CONNECTING, 2 HANDSHAKING, 3 CONNECTED, 4 PUBLISHING, 5 DISCONNECTING, 6 ERROR); null: no rtmp object */
    state: number | null;
    /** the URL the script pushes to */
    url?: string | null;
    stats: RtmpStatusStats | null;
  };
  /** boots of the device so far (1 after the first boot) */
  boots: number;
  /** ms since the current boot */
  uptimeMs?: number;
  memory: { lua: MemoryUsage | null; sys: MemoryUsage | null };
  /** the USB camera (the console says why the video stalled) */
  camera?: { unplugged: boolean };
  /**
   * Boards with a cellular modem (air780e*): the console shows this row instead of the Wi-Fi
   * one (whose model only carries the traffic there). What the modem model knows.
   */
  cellular?: {
    /** the modem's phase: off | nosim | pin | searching | registered | online */
    state: string;
    /** 'ready' (read and unlocked), 'absent' (pulled out), 'pin' (locked), 'not read' (yet) */
    sim: string;
    /** mobile.status(): 0 not registered, 1 registered, 2 searching, 3 denied, 4 unknown */
    registration: number;
    /** mobile.csq() / mobile.rssi() (0 / 0 without signal) */
    csq: number;
    rssi: number;
    /** the cellular netif's IPv4 while online */
    ip: string | null;
    /** MCC+MNC of the SIM's IMSI (e.g. 46000) once the SIM is ready, else null */
    operator: string | null;
    /** mobile.apn(): the APN in use (null before registration) */
    apn: string | null;
    flightMode: boolean;
  };
  /**
   * tasks sleeping in sys.wait/waitUntil (task timers), soonest first; afterError: the sleep began
   * within 2 s after an E/W line (the console shows "retrying in N s")
   */
  tasks?: { sleeping: { id: number; ms: number; wakeInMs: number; afterError: boolean }[] };
}
