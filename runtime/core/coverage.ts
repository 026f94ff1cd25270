/**
 * API coverage (`luatos run --coverage`): which LuatOS functions the scripts called, and whether
 * each is implemented, simulated (backed by a model of the hardware or network rather than the
 * real thing) or missing (looked up on a module table that does not have it).
 */
export type ApiStatus = 'implemented' | 'simulated' | 'missing';

/**
 * runtime helpers that are not LuatOS API, and metamethods (`__gc` of a zbuff, rtmp context or
 * file is Lua's garbage collector calling us, not the script calling a LuatOS function)
 */
const INTERNAL = new Set(['boot_lines', 'load_main', 'fmt_float']);
const METAMETHOD = /(^|\.)__[a-z]+$/;

/**
 * Functions that exist (so scripts that call them run on) but do not do their job here: they
 * log that and return a failure, so --coverage counts them as missing.
 */
export const STUBBED = new Set(['wlan.smartconfig', 'netdrv.napt']);

/** Modules whose functions act on simulated hardware or networks. */
export const SIMULATED_MODULES = new Set(['wlan', 'netdrv', 'camera', 'mobile', 'pm', 'wdt', 'mcu']);

export class ApiCoverage {
  readonly calls = new Map<string, number>();
  readonly missing = new Map<string, number>();
  /**
   * > 0 while `log.*` calls the global `print` to write its line: that print is part of the log
   * call, not one of the script's (luatos-api/log.ts raises and lowers it around the call).
   */
  printDepth = 0;

  record(fname: string): void {
    if (INTERNAL.has(fname) || METAMETHOD.test(fname)) return;
    if (fname === 'print' && this.printDepth > 0) return;
    this.calls.set(fname, (this.calls.get(fname) ?? 0) + 1);
  }

  recordMissing(fname: string): void {
    this.missing.set(fname, (this.missing.get(fname) ?? 0) + 1);
  }

  status(fname: string): ApiStatus {
    if (this.missing.has(fname) && !this.calls.has(fname)) return 'missing';
    if (STUBBED.has(fname)) return 'missing';
    const mod = fname.split('.')[0];
    return SIMULATED_MODULES.has(mod) ? 'simulated' : 'implemented';
  }

  rows(): { name: string; calls: number; status: ApiStatus }[] {
    const names = new Set([...this.calls.keys(), ...this.missing.keys()]);
    return [...names].sort().map((name) => ({ name, calls: this.calls.get(name) ?? this.missing.get(name) ?? 0, status: this.status(name) }));
  }

  report(): string {
    const rows = this.rows();
    const w = Math.max(8, ...rows.map((r) => r.name.length));
    const lines = [`API coverage: ${rows.length} functions used`, `${'function'.padEnd(w)}  ${'calls'.padStart(7)}  status`];
    for (const r of rows) lines.push(`${r.name.padEnd(w)}  ${String(r.calls).padStart(7)}  ${r.status}`);
    const n = (s: ApiStatus) => rows.filter((r) => r.status === s).length;
    lines.push(`implemented ${n('implemented')}, simulated ${n('simulated')}, missing ${n('missing')}`);
    return lines.join('\n') + '\n';
  }
}

/**
 * LuatOS modules whose missing functions are reported (not Lua's standard libraries, except
 * `io`, which the firmware extends; `fs` is the same table as `io`, reported as `io.*`).
 */
export const WATCHED_MODULES = [
  'io', 'fs', 'log', 'rtos', 'json', 'wdt', 'mcu', 'zbuff', 'crypto', 'pm', 'mobile', 'wlan', 'socket', 'netdrv', 'http', 'camera', 'rtmp',
  'xxtea', 'rsa', 'gmssl', 'protobuf', 'errDump', 'hmeta',
  'pack', 'bit', 'bit32', 'bit64', 'fskv', 'rtc', 'miniz', 'fastlz', 'iconv',
  'mqtt',
  'websocket',
  'httpsrv',
];

/** LuatOS modules that firmware builds often have and this runtime does not (yet). */
export const ABSENT_MODULES = [
  'gpio', 'uart', 'i2c', 'spi', 'adc', 'pwm', 'can', 'onewire', 'lcd', 'u8g2', 'eink', 'lvgl', 'fonts',
  'sensor', 'icmp', 'airlink', 'ftp', 'fota', 'audio', 'ble', 'lora', 'iotcloud',
  'libnet', 'otp', 'ymodem', 'mreport',
  // more modules of the firmware catalogue (luaopen_* in components/ and luat/ of LuatOS)
  'iotauth', 'dac', 'i2s', 'ir', 'keyboard', 'lcdseg', 'libgnss', 'little_flash', 'sfud', 'sfd', 'ws2812',
  'statem', 'pins', 'touchkey', 'tp', 'sms', 'codec', 'fatfs', 'lfs2', 'ercoap', 'ht1621', 'gtfont',
  'hzfont', 'sqlite3', 'rtsp', 'iperf', 'w5500', 'sdio', 'usb', 'pinyin', 'gbc', 'profiler',
  'softkb', 'tfs', 'vtool', 'io_queue', 'airui', 'airtalk', 'voip', 'videoplayer', 'nimble', 'bluetooth',
];
