/**
 * A minimal SNTP client over UDP (RFC 4330), as the firmware's libsntp sends it: a 48-byte
 * request whose first byte is 0x1B (LI 0, VN 3, mode 3 = client); the answer's transmit
 * timestamp (bytes 40..47) is the time.
 */
import * as dgram from 'node:dgram';

/** seconds between 1900-01-01 and 1970-01-01 */
export const NTP_UNIX_OFFSET = 2208988800;

export function buildNtpRequest(nowMs: number): Buffer {
  const b = Buffer.alloc(48);
  b[0] = 0x1b;
  // the originate time is echoed back by servers; fill the transmit field with our clock
  writeNtpTime(b, 40, nowMs);
  return b;
}

export function writeNtpTime(b: Buffer, off: number, unixMs: number): void {
  const sec = Math.floor(unixMs / 1000) + NTP_UNIX_OFFSET;
  const frac = Math.floor(((unixMs % 1000) / 1000) * 0x100000000);
  b.writeUInt32BE(sec >>> 0, off);
  b.writeUInt32BE(frac >>> 0, off + 4);
}

/** An NTP timestamp at `off` as Unix milliseconds (0 when the field is zero). */
export function readNtpTime(b: Buffer, off: number): number {
  const sec = b.readUInt32BE(off);
  const frac = b.readUInt32BE(off + 4);
  if (sec === 0 && frac === 0) return 0;
  return (sec - NTP_UNIX_OFFSET) * 1000 + Math.floor((frac / 0x100000000) * 1000);
}

export interface NtpAnswer {
  /** server transmit time, Unix ms */
  serverMs: number;
  /** round-trip time, ms */
  rttMs: number;
}

/**
 * Send one request to host:port and wait for an answer. Rejects on timeout or bad packets.
 * `timers` lets the caller use the device clock for the timeout.
 */
export function queryNtp(
  host: string,
  port: number,
  timeoutMs: number,
  timers: { set(ms: number, fn: () => void): () => void },
  onSocket?: (s: dgram.Socket) => void,
): Promise<NtpAnswer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    onSocket?.(s);
    const t0 = Date.now();
    let done = false;
    const finish = (err: Error | null, ans?: NtpAnswer) => {
      if (done) return;
      done = true;
      cancel();
      try {
        s.close();
      } catch {
        /* already closed */
      }
      if (err) reject(err);
      else resolve(ans as NtpAnswer);
    };
    const cancel = timers.set(timeoutMs, () => finish(new Error('timeout')));
    s.on('error', (e) => finish(e));
    s.on('close', () => finish(new Error('closed')));
    s.on('message', (msg) => {
      if (msg.length < 48) return;
      const mode = msg[0] & 7;
      if (mode !== 4 && mode !== 5) return;
      const serverMs = readNtpTime(msg, 40);
      if (!serverMs) return;
      finish(null, { serverMs, rttMs: Date.now() - t0 });
    });
    s.send(buildNtpRequest(Date.now()), port, host, (e) => {
      if (e) finish(e);
    });
  });
}
