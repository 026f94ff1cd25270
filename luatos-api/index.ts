/**
 * The LuatOS API as seen by scripts: one file per firmware module, each a thin binding that
 * checks Lua arguments and calls into runtime/. `installApi` opens them all into a new VM,
 * as the firmware opens its built-in C libraries before running main.lua.
 */
import type { Vm } from '../runtime/core/vm/vm';
import { ABSENT_MODULES, WATCHED_MODULES } from '../runtime/core/coverage';
import { openBase } from './base';
import { openLog } from './log';
import { openRtos } from './rtos';
import { openJson } from './json';
import { openWdt } from './wdt';
import { openMcu } from './mcu';
import { openZbuff } from './zbuff';
import { openStringx } from './stringx';
import { openCrypto } from './crypto';
import { openPm } from './pm';
import { openMobile } from './mobile';
import { openIo } from './io';
import { openWlan } from './wlan';
import { openSocket } from './socket';
import { openNetdrv } from './netdrv';
import { openHttp } from './http';
import { openRtmp } from './rtmp';
import { openCamera } from './camera';
import { openXxtea } from './xxtea';
import { openRsa } from './rsa';
import { openGmssl } from './gmssl';
import { openProtobuf } from './protobuf';
import { openErrdump } from './errdump';
import { openHmeta } from './hmeta';
import { openPack } from './pack';
import { openBit } from './bit';
import { openBit64 } from './bit64';
import { openFskv } from './fskv';
import { openRtc } from './rtc';
import { openMiniz } from './miniz';
import { openFastlz } from './fastlz';
import { openIconv } from './iconv';
import { openMqtt } from './mqtt';
import { openWebsocket } from './websocket';
import { openHttpsrv } from './httpsrv';

export type ModuleOpener = (vm: Vm) => void;

/** Every module in load order (base first: it opens the standard libraries). */
export const MODULES: ModuleOpener[] = [
  openBase,
  openLog,
  openRtos,
  openJson,
  openWdt,
  openMcu,
  openZbuff,
  openStringx,
  openCrypto,
  openPm,
  openMobile,
  openIo,
  openWlan,
  openSocket,
  openNetdrv,
  openHttp,
  openCamera,
  openRtmp,
  openXxtea,
  openRsa,
  openGmssl,
  openProtobuf,
  openErrdump,
  openHmeta,
  openPack,
  openBit,
  openBit64,
  openFskv,
  openRtc,
  openMiniz,
  openFastlz,
  openIconv,
  openMqtt,
  openWebsocket,
  openHttpsrv,
];

export function installApi(vm: Vm): void {
  for (const open of MODULES) open(vm);
  vm.watchMissing(WATCHED_MODULES);
  vm.watchAbsentModules(ABSENT_MODULES);
}
