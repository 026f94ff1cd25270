import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { runLua } from '../helpers/run-lua';
import { runSuite } from './suite';
import { deriveImei } from '../../luatos-api/mobile';
import { luhn as luhnDigit } from '../../runtime/net/luhn';

const BODY = String.raw`
eq("pm consts", table.concat({pm.NONE, pm.IDLE, pm.LIGHT, pm.DEEP, pm.HIB}, ","), "0,1,2,3,4")
eq("pm power consts", table.concat({pm.USB, pm.GPS, pm.GPS_ANT, pm.CAMERA, pm.DAC_EN, pm.PWK_MODE, pm.WORK_MODE}, ","), "0,1,2,3,4,5,6")
eq("request", pm.request(pm.LIGHT), true)
eq("request bad mode", pm.request(9), false)
eqv("lastReson first boot", {0, 0, 0}, pm.lastReson())
eq("dtimerStart", pm.dtimerStart(0, 1000), true)
eqv("dtimerStop", {}, pm.dtimerStop(0))
eq("power", pm.power(pm.USB, false), true)
raises("request needs a number", "bad argument #1 to 'request' (number expected, got no value)", pm.request)
local imei = mobile.imei()
eq("imei 15 digits", #imei == 15 and imei:match("^%d+$") ~= nil, true)
eq("imei stable", mobile.imei(0), imei)
eq("imsi", #mobile.imsi() == 15 and mobile.imsi():sub(1, 5), "46000")
eq("iccid", #mobile.iccid() == 20 and mobile.iccid():sub(1, 4), "8986")
eq("csq", mobile.csq(), 25)
eq("rssi", mobile.rssi(), -63)
eq("status", mobile.status(), 1)
log.info("IMEI", imei)
`;

for (const engine of ENGINE_NAMES) {
  test(`pm and mobile answer like an idle, registered device (${engine})`, async () => {
    const r = await runSuite(engine, BODY, {}, { profile: { name: 'dev-a' } });
    const line = r.run.user.find((u) => u.startsWith('I/user.IMEI '));
    assert.equal(line, `I/user.IMEI ${deriveImei('dev-a')}`);
    assert.ok(r.checks >= 16, `only ${r.checks} checks ran`);
  });

  test(`pm.reboot reboots and lastReson then reports a software restart (${engine})`, async () => {
    const src = `
      local a, b, c = pm.lastReson()
      log.info("BOOT", c)
      if c == 0 then pm.reboot() end
      log.info("DONE")
    `;
    const r = await runLua({ 'main.lua': src }, { engine, until: 'I/user.DONE', reboot: 'restart', timeoutMs: 5000 });
    assert.deepEqual(r.user, ['I/user.BOOT 0', 'I/user.BOOT 3', 'I/user.DONE']);
  });

  test(`pm.shutdown powers the device off for good (${engine})`, async () => {
    const src = `log.info("A") pm.shutdown() log.info("NOT REACHED")`;
    const r = await runLua({ 'main.lua': src }, { engine, reboot: 'restart', timeoutMs: 3000 });
    assert.equal(r.timedOut, false);
    assert.equal(r.stop?.kind, 'stopped');
    assert.deepEqual(r.user, ['I/user.A']);
    assert.equal(r.device.boots, 1);
  });
}

test('derived IMEIs are Luhn-valid and differ per device', () => {
  for (const n of ['air8101', 'dev-a', 'dev-b']) {
    const imei = deriveImei(n);
    assert.match(imei, /^86\d{13}$/);
    assert.equal(luhnDigit(imei.slice(0, 14)), Number(imei[14]));
  }
  assert.notEqual(deriveImei('dev-a'), deriveImei('dev-b'));
  // a known Luhn check: 49015420323751 -> 8 (IMEI example 490154203237518)
  assert.equal(luhnDigit('49015420323751'), 8);
});
