/**
 * The LuatOS API as this runtime knows it: which modules it watches for missing functions, which
 * firmware modules it lacks, which functions are stubs and which modules act on simulated parts.
 * `installApi` (luatos-api/index.ts) watches the modules at every boot; runtime/boards/device.ts
 * `createDevice` hands `API_CATALOG` to the core's coverage report (runtime/core/coverage.ts),
 * which names no LuatOS module itself.
 */
import type { ApiCatalog } from '../runtime/core/coverage';

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

/**
 * Functions that exist (so scripts that call them run on) but do not do their job here: they
 * log that and return a failure, so --coverage counts them as missing.
 */
export const STUBBED: ReadonlySet<string> = new Set(['wlan.smartconfig', 'netdrv.napt']);

/** Modules whose functions act on simulated hardware or networks. */
export const SIMULATED_MODULES: ReadonlySet<string> = new Set(['wlan', 'netdrv', 'camera', 'mobile', 'pm', 'wdt', 'mcu']);

/** The runtime's own helpers that boot.lua calls (luatos-api/base.ts `host.*`): not LuatOS API. */
export const INTERNAL_FUNCTIONS: ReadonlySet<string> = new Set(['boot_lines', 'load_main', 'fmt_float']);

/** What --coverage knows of this API (runtime/boards/device.ts passes it to the Device). */
export const API_CATALOG: ApiCatalog = Object.freeze({ internal: INTERNAL_FUNCTIONS, stubbed: STUBBED, simulatedModules: SIMULATED_MODULES });
