/**
 * errDump (components/network/errdump/luat_lib_errdump.c), luatos-api-2.md §20.
 *
 * Recording, as the firmware:
 * - Off until `config(true, ...)`; while off, nothing is recorded, and `config(false)` deletes
 *   both logs. State is per boot (the firmware keeps it in RAM); the log files persist.
 * - `record(str)`: a non-empty string is appended to the user log "/\xAAuerr" (other types are
 *   ignored); the file holds at most 4096 bytes, newest kept: a record of ≥ 4096 bytes keeps
 *   its last 4096, otherwise the oldest bytes are dropped to make room.
 * - When the Lua VM dies with an error and recording is on, the error text goes to the system
 *   log "/\xAAserr" the same way (what exactly the firmware writes there is **unsure**: the
 *   error message is used).
 * - `dump(zbuff|nil, type=TYPE_USR, delete)`: returns true when there were writes since the
 *   last read; with a zbuff, fills it from offset 0 (growing it if needed) and sets `used`;
 *   delete removes the file afterwards; type ≥ 2 → true.
 * - `config(enable, period=600, user_flag, custom_id, host, port, adapter)` → nothing.
 *   custom_id and host must be shorter than 48 chars, a port < 1 becomes 12425.
 *
 * Upload (period > 0), as the firmware: 2 s after config/record, if there is something to send
 * (the power-on reason not yet reported, or a non-empty log), one UDP datagram
 * "<PROJECT>_LuatOS-SoC_<version>_<bsp>,<VERSION>,<imei or custom_id>,<user_flag>,\r\n"
 * + "poweron reason:0\r\n" (first report of a boot) + system log + "\r\n" + user log + "\r\n".
 * An 8-byte `{"r": 1}` or "OK" answer logs "errdump ok!" and deletes both logs; no answer in
 * 10 s resends (up to 3 tries), then waits `period` seconds. **Configured only**: the datagram
 * goes out only when the script gave a host (config's 5th argument) or a `--map` rule redirects
 * the host; the default dev_msg1.openluat.com:12425 is never contacted from a PC, which is
 * logged once per boot. The host must be (or map to) an IPv4 address. Paths are the firmware's
 * bytes decoded like every Lua path here (UTF-8 with U+FFFD for 0xAA), so io.open on the same
 * Lua string reads the same file.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as netMod from 'node:net';
import { LUA_TBOOLEAN, LUA_TSTRING } from '../runtime/core/engine/types';
import { resolveHost } from '../runtime/core/fs/sandbox';
import type { Vm, VmExit } from '../runtime/core/vm/vm';
import type { Args } from '../runtime/core/vm/lua-value';
import { getZbuff } from './shared/zbuff';
import { deriveImei } from './mobile';

export const ERRDUMP_MAX = 4096;
export const ERRDUMP_PORT = 12425;
export const ERRDUMP_HOST = 'dev_msg1.openluat.com';
export const SYS_LOG_PATH = Buffer.from([0x2f, 0xaa, 0x73, 0x65, 0x72, 0x72]).toString('utf8');
export const USR_LOG_PATH = Buffer.from([0x2f, 0xaa, 0x75, 0x65, 0x72, 0x72]).toString('utf8');

interface ErrdumpState {
  enabled: boolean;
  period: number;
  userFlag: string | null;
  customId: string | null;
  host: string;
  port: number;
  sysW: number;
  sysR: number;
  usrW: number;
  usrR: number;
  uploadNoted: boolean;
  /** the script named a host (config's 5th argument) */
  hostGiven: boolean;
  poweronDone: boolean;
}

function hostPath(vm: Vm, p: string): string | null {
  try {
    const r = resolveHost(vm.vfs, p);
    return r.readonly ? null : r.host;
  } catch {
    return null;
  }
}

function fileSize(host: string): number {
  try {
    return fs.statSync(host).size;
  } catch {
    return 0;
  }
}

/** luat_errdump_save: append with the 4 KiB cap, newest data kept. */
export function saveCapped(host: string, data: Buffer): void {
  let keep: Buffer = Buffer.alloc(0);
  if (data.length >= ERRDUMP_MAX) {
    data = data.subarray(data.length - ERRDUMP_MAX);
  } else {
    const now = fileSize(host);
    if (now + data.length > ERRDUMP_MAX) {
      const keepLen = ERRDUMP_MAX - data.length;
      try {
        const old = fs.readFileSync(host);
        keep = old.subarray(Math.max(0, old.length - keepLen));
      } catch {
        keep = Buffer.alloc(0);
      }
    } else {
      try {
        fs.appendFileSync(host, data);
        return;
      } catch {
        /* fall through: rewrite */
      }
    }
  }
  try {
    fs.writeFileSync(host, Buffer.concat([keep, data]));
  } catch {
    /* the firmware ignores a failed write too */
  }
}

type Timer = ReturnType<Vm['clock']['setTimer']>;

/** One VM's errDump: its state, the upload timer and socket, the record files. */
class Errdump {
  readonly st: ErrdumpState = {
    enabled: false,
    period: 0,
    userFlag: null,
    customId: null,
    host: ERRDUMP_HOST,
    port: ERRDUMP_PORT,
    sysW: 0,
    sysR: 0,
    usrW: 0,
    usrR: 0,
    uploadNoted: false,
    hostGiven: false,
    poweronDone: false,
  };
  private uploadTimer: Timer | null = null;
  private rxTimer: Timer | null = null;
  private sock: dgram.Socket | null = null;
  private uploading = false;

  constructor(readonly vm: Vm) {}

  closeSock(): void {
    this.vm.clock.clearTimer(this.rxTimer);
    this.rxTimer = null;
    if (this.sock) {
      this.sock.removeAllListeners();
      this.sock.on('error', () => undefined);
      this.sock.close();
      this.sock = null;
    }
    this.uploading = false;
  }

  private schedule(ms: number): void {
    const { st, vm } = this;
    if (this.uploading || !st.enabled || st.period <= 0) return;
    vm.clock.clearTimer(this.uploadTimer);
    this.uploadTimer = vm.clock.setTimer(ms, () => {
      this.uploadTimer = null;
      this.upload();
    });
  }

  private retryLater(msg: string): void {
    this.vm.log('E', 'errDump', `${msg}, after ${this.st.period} second retry`);
    this.closeSock();
    this.schedule(this.st.period * 1000);
  }

  private readLog(path: string): Buffer {
    const host = hostPath(this.vm, path);
    try {
      return host ? fs.readFileSync(host) : Buffer.alloc(0);
    } catch {
      return Buffer.alloc(0);
    }
  }

  private makeReport(): Buffer {
    const { vm, st } = this;
    const p = vm.device.profile;
    const g = (name: string) => {
      vm.e.getglobal(vm.L, name);
      const v = vm.e.type(vm.L, -1) === LUA_TSTRING ? vm.e.tostring(vm.L, -1) : null;
      vm.e.pop(vm.L, 1);
      return v;
    };
    const imei = st.customId ?? (p.imei && /^\d{15}$/.test(p.imei) ? p.imei : deriveImei(p.name));
    let head = `${g('PROJECT') ?? 'unkonw'}_LuatOS-SoC_${p.version}_${p.bsp},${g('VERSION') ?? ''},${imei},${st.userFlag ?? ''},\r\n`;
    if (!st.poweronDone) head += 'poweron reason:0\r\n';
    const parts: Buffer[] = [Buffer.from(head)];
    st.sysR = st.sysW;
    st.usrR = st.usrW;
    for (const path of [SYS_LOG_PATH, USR_LOG_PATH]) {
      let data = this.readLog(path);
      if (data.length > ERRDUMP_MAX * 2) {
        vm.log('E', 'errDump', `${path === SYS_LOG_PATH ? 'sys' : 'user'} record file len ${data.length} too much, drop`);
        this.remove(path);
        data = Buffer.alloc(0);
      }
      if (data.length > 0) parts.push(data, Buffer.from('\r\n'));
    }
    return Buffer.concat(parts);
  }

  /** Send the records to the server (when there are any and it is configured). */
  private upload(): void {
    const { vm, st } = this;
    if (!st.enabled || st.period <= 0 || this.uploading || vm.isDead) return;
    if (st.poweronDone && this.readLog(SYS_LOG_PATH).length === 0 && this.readLog(USR_LOG_PATH).length === 0) {
      vm.log('D', 'errDump', 'no info errdump stop');
      return;
    }
    const net = vm.device.net;
    const to = net.mapAddress(st.host, st.port);
    if (!st.hostGiven && !to.mapped) {
      if (!st.uploadNoted) {
        st.uploadNoted = true;
        vm.log('W', 'errDump', `upload to ${st.host}:${st.port} not done: not configured on this PC (give errDump.config a host, or --map ${st.host}=ADDR)`);
      }
      return;
    }
    this.uploading = true;
    if (!net.adapterReady(net.defaultAdapter()) || netMod.isIPv4(to.host) === false) {
      this.retryLater('errdump server connect fail');
      return;
    }
    const s = dgram.createSocket('udp4');
    this.sock = s;
    s.on('error', () => this.retryLater('socket tx error, errdump fail'));
    s.on('message', (msg) => this.onReply(s, msg, to));
    this.sendReport(s, to, 1);
  }

  /** The server's answer: done (the records removed), or a retry when records came meanwhile. */
  private onReply(s: dgram.Socket, msg: Buffer, to: { host: string; port: number }): void {
    const { vm, st } = this;
    if (this.sock !== s) return;
    const text = msg.subarray(0, 16).toString('latin1');
    if ((msg.length === 8 && text !== '{"r": 1}') || (msg.length === 2 && text !== 'OK')) {
      vm.log('D', 'errDump', `errdump response error ${text}`);
      return;
    }
    if (msg.length !== 8 && msg.length !== 2) vm.log('D', 'errDump', `errdump response maybe new ${text}`);
    if (st.sysR !== st.sysW || st.usrR !== st.usrW) {
      vm.log('D', 'errDump', 'errdump need retry!');
      this.sendReport(s, to, 1);
      return;
    }
    vm.log('D', 'errDump', 'errdump ok!');
    this.remove(SYS_LOG_PATH);
    this.remove(USR_LOG_PATH);
    st.poweronDone = true;
    this.closeSock();
  }

  /** One send, then 10 s for the answer; 3 tries, then a retry after the period. */
  private sendReport(s: dgram.Socket, to: { host: string; port: number }, tryNo: number): void {
    const { vm } = this;
    if (this.sock !== s) return;
    s.send(this.makeReport(), to.port, to.host, (err) => {
      if (err) this.retryLater('socket tx error, errdump fail');
    });
    vm.clock.clearTimer(this.rxTimer);
    this.rxTimer = vm.clock.setTimer(10000, () => {
      this.rxTimer = null;
      if (this.sock !== s) return;
      if (tryNo < 3) {
        vm.log('E', 'errDump', `errdump tx fail ${tryNo} cnt, retry`);
        this.sendReport(s, to, tryNo + 1);
      } else {
        this.retryLater('errdump server connect fail');
      }
    });
  }

  noteUpload(): void {
    this.schedule(2000);
  }

  save(path: string, data: Buffer): void {
    if (!this.st.enabled) return;
    const host = hostPath(this.vm, path);
    if (host) saveCapped(host, data);
    this.noteUpload();
  }

  remove(path: string): void {
    const host = hostPath(this.vm, path);
    if (host) fs.rmSync(host, { force: true });
  }

  /** the system log: the error that ended this boot's VM */
  readonly onExit = (x: VmExit, bootNo: number): void => {
    const { vm, st } = this;
    if (bootNo !== vm.bootNo) return;
    vm.device.off('vmexit', this.onExit);
    vm.clock.clearTimer(this.uploadTimer);
    st.period = 0;
    this.closeSock();
    if ((x.kind === 'error' || x.kind === 'load') && st.enabled) {
      st.sysW++;
      this.save(SYS_LOG_PATH, Buffer.from(x.message ?? '', 'utf8'));
      st.sysW++;
    }
  };

  /** errDump.config(enable, period, userFlag, customId, host, port) */
  config(a: Args): number {
    const { st } = this;
    if (a.type(1) === LUA_TBOOLEAN) {
      st.enabled = a.boolean(1);
      if (st.enabled) {
        const p = a.optInteger(2, 600);
        st.period = p > 0 ? p : 0;
      } else {
        st.period = 0;
        st.userFlag = null;
        this.remove(SYS_LOG_PATH);
        this.remove(USR_LOG_PATH);
      }
    }
    if (st.enabled) {
      if (a.type(3) === LUA_TSTRING) st.userFlag = a.string(3);
      if (a.type(4) === LUA_TSTRING) {
        const id = a.string(4);
        if (Buffer.byteLength(id) < 48) st.customId = id;
      }
      if (a.type(5) === LUA_TSTRING) {
        const h = a.string(5);
        if (Buffer.byteLength(h) < 48) {
          st.host = h;
          st.hostGiven = true;
        }
      }
      if (!a.isNoneOrNil(6)) {
        const port = a.integer(6);
        st.port = port < 1 ? ERRDUMP_PORT : port;
      }
      this.noteUpload();
    }
    return 0;
  }

  /** errDump.record(text) */
  record(a: Args): number {
    if (a.type(1) !== LUA_TSTRING) return 0;
    const s = Buffer.from(a.bytes(1));
    if (s.length === 0) return 0;
    this.st.usrW++;
    this.save(USR_LOG_PATH, s);
    this.st.usrW++;
    return 0;
  }

  /** errDump.dump(zbuff, type, delete) */
  dump(a: Args): number {
    const { vm, st } = this;
    const del = a.type(3) === LUA_TBOOLEAN && a.boolean(3);
    const z = getZbuff(vm, a.L, 1);
    const type = a.optInteger(2, 1);
    if (type >= 2) {
      vm.e.pushboolean(a.L, true);
      return 1;
    }
    const sys = type === 0;
    const path = sys ? SYS_LOG_PATH : USR_LOG_PATH;
    const fresh = sys ? st.sysR !== st.sysW : st.usrR !== st.usrW;
    if (z) {
      if (sys) st.sysR = st.sysW;
      else st.usrR = st.usrW;
      z.used = 0;
      if (st.enabled) {
        const host = hostPath(vm, path);
        let data: Buffer | null;
        try {
          data = host ? fs.readFileSync(host) : null;
        } catch {
          data = null;
        }
        if (data && data.length > 0) {
          if (z.len < data.length) z.resize(data.length);
          data.copy(z.data, 0);
          z.used = data.length;
        }
      }
    }
    vm.e.pushboolean(a.L, fresh);
    if (del) this.remove(path);
    return 1;
  }
}

export function openErrdump(vm: Vm): void {
  const ed = new Errdump(vm);
  vm.device.on('vmexit', ed.onExit);
  vm.defineModule('errDump', { config: (a) => ed.config(a), record: (a) => ed.record(a), dump: (a) => ed.dump(a) }, { TYPE_SYS: 0, TYPE_USR: 1 });
}
