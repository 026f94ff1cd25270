import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { runSuite } from '../base/suite';
import { removeRunDirs } from './mods2-util';

// Facts (luat_lib_hmeta.c, luat_lib_mcu.c): model/hwver/chip are strings or nil, muid is the
// uppercase hex of unique_id (≤ 32 chars), devid the IMEI; the PC simulator reports model "PC",
// hwver "A10", chip "x86"; mcu.hardfault returns nothing.
const PC_PROFILE = {
  model: 'PC',
  hwVersion: 'A10',
  chipId: 'x86',
  uniqueId: '00112233445566778899aabbccddeeff',
  imei: '862289050000007',
};

const PC_BODY = String.raw`
eq("model", hmeta.model(), "PC")
eq("hwver", hmeta.hwver(), "A10")
eq("chip", hmeta.chip(), "x86")
eq("muid is uppercase hex of unique_id", hmeta.muid(), "00112233445566778899AABBCCDDEEFF")
eq("unique_id", hmeta.unique_id(), ("00112233445566778899aabbccddeeff"):fromHex())
eq("mcu.muid", mcu.muid(), "00112233445566778899AABBCCDDEEFF")
eq("devid = imei", hmeta.devid(), "862289050000007")
eq("devid = mobile.imei()", hmeta.devid(), mobile.imei())
eqv("hardfault returns nothing", {}, mcu.hardfault(0))
eqv("hardfault default mode", {}, mcu.hardfault())
raises("hardfault mode must be an integer", "bad argument #1 to 'hardfault'", mcu.hardfault, "x")
`;

const DEFAULT_BODY = String.raw`
eq("model defaults to the bsp", hmeta.model(), rtos.bsp())
eqv("chip unknown: nil", {nil, n = 1}, hmeta.chip())
eqv("hwver unknown: nil", {nil, n = 1}, hmeta.hwver())
eq("muid length", #hmeta.muid(), 32)
eq("muid = hex of mcu.unique_id", hmeta.muid(), mcu.unique_id():toHex():upper())
`;

for (const engine of ENGINE_NAMES) {
  test(`hmeta and mcu.muid/hardfault report the profile's hardware (${engine})`, async () => {
    const r = await runSuite(engine, PC_BODY, {}, { profile: PC_PROFILE });
    removeRunDirs(r.run);
    assert.equal(r.checks, 11);
    const d = await runSuite(engine, DEFAULT_BODY);
    removeRunDirs(d.run);
    assert.equal(d.checks, 5);
  });
}
