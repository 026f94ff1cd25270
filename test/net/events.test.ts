/**
 * The network model without Lua (issue 12): the Wi-Fi model, the PC simulator's adapter and the
 * modem emit typed events, log lines included, in the device's order; a boot that ended emits
 * nothing more. The binding (luatos-api/shared/net-events.ts) subscribes per boot and leaves no
 * listener behind. And runtime/net names nothing of the VM or the engines, not even in a
 * `declare module` (which dependency-cruiser's `net-knows-no-lua` rule cannot see).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VirtualClock } from '../../runtime/core/clock';
import { CellularModem, modemOptionsFromProfile, type ModemEvent } from '../../runtime/net/cellular';
import type { NetEvent, NetHost } from '../../runtime/net/events';
import { WifiNetwork } from '../../runtime/net/model';
import { PosixAdapter } from '../../runtime/net/posix-adapter';
import { FAST, REF_NET, runNet } from './net-helpers';

function host(): { h: NetHost; clock: VirtualClock } {
  const clock = new VirtualClock();
  return { h: { clock, uptime: () => clock.now() }, clock };
}

/** events as plain rows (the bssid as hex) */
function row(e: NetEvent | ModemEvent): string {
  switch (e.type) {
    case 'log':
      return `${e.level} ${e.module}:${e.text}`;
    case 'sta-connected':
      return `sta-connected ${e.ssid} ${e.bssid.toString('hex').toUpperCase()}`;
    case 'sta-disconnected':
      return `sta-disconnected ${e.reason}`;
    case 'ip-ready':
      return 'adapter' in e ? `ip-ready ${e.ip} ${e.adapter}` : `ip-ready ${e.ip}`;
    case 'ip-lose':
      return 'adapter' in e ? `ip-lose ${e.adapter}` : 'ip-lose';
    case 'sim':
      return `sim ${e.state}`;
    default:
      return e.type;
  }
}

/** resolves with the rows so far once `until` is seen */
function collect<E extends NetEvent | ModemEvent>(on: (fn: (e: E) => void) => () => void, until: string): { rows: string[]; seen: Promise<void>; off: () => void } {
  const rows: string[] = [];
  let done: () => void = () => undefined;
  const seen = new Promise<void>((r) => (done = r));
  const off = on((e) => {
    if (e.type === 'status') return;
    rows.push(row(e));
    if (rows[rows.length - 1] === until) done();
  });
  return { rows, seen, off };
}

test('the Wi-Fi model without a VM: joining and losing the link emit the firmware lines and events in device order', async () => {
  const { h, clock } = host();
  const m = new WifiNetwork({ ...REF_NET, timing: FAST, aps: [{ ssid: 'lab', password: 'secret', bssid: 'AABBCCDDEE01' }] });
  const c = collect<NetEvent>((fn) => m.onEvent(fn), 'ip-ready 192.168.31.234 2');
  const end = m.boot(h, () => clock.now());
  m.connect('lab', 'secret');
  await c.seen;
  // the reference device log (luatos-api.md §6.4/§9.2) around WLAN_STA_INC and IP_READY
  assert.deepEqual(c.rows, [
    'D wlan:event_module 1 event_id 2',
    'D wlan:STA connected lab ',
    'sta-connected lab AABBCCDDEE01',
    'D wlan:event_module 2 event_id 0',
    'D wlan:ipv4 got!! 192.168.31.234',
    'D net:network ready 2, setup dns server',
    'D wlan:sta ip 192.168.31.234',
    'ip-ready 192.168.31.234 2',
  ]);
  c.rows.length = 0;
  m.linkDown();
  // beacon lost (256), then IP_LOSE on the STA
  assert.deepEqual(c.rows, ['D wlan:STA disconnected, reason 256', 'sta-disconnected 256', 'ip-lose 2']);
  end();
  c.off();
  assert.equal(m.eventListenerCount, 0);
});

test('an ended boot emits nothing more: station timers stop, a board adapter\'s IP_READY of the old boot is dropped', async () => {
  const { h, clock } = host();
  const m = new WifiNetwork({ ...REF_NET, timing: FAST });
  m.addAdapter(new PosixAdapter({ readyMs: 100, ip: '10.1.2.3' }), { makeDefault: true });
  const c = collect<NetEvent>((fn) => m.onEvent(fn), 'ip-ready 10.1.2.3 17');
  const end1 = m.boot(h, () => clock.now());
  m.connect('any', 'thing');
  end1();
  end1(); // idempotent
  // the second boot starts 500 ms later: its adapter's IP_READY comes 100 ms after it
  await new Promise<void>((r) => clock.setTimer(500, r));
  assert.deepEqual(c.rows, [], 'nothing from the first boot after it ended');
  const t0 = clock.now();
  const end2 = m.boot(h, () => clock.now() - t0);
  await c.seen;
  assert.deepEqual(c.rows, ['ip-ready 10.1.2.3 17']);
  assert.equal(clock.now() - t0, 100);
  end2();
  c.off();
});

test('the modem emits its firmware lines as log events before ip-ready (EC618 log order)', async () => {
  const { h, clock } = host();
  const carrier = new WifiNetwork({ timing: FAST });
  const modem = new CellularModem(carrier, modemOptionsFromProfile({ name: 'events-test', mobile: { ip: '10.64.1.2', timing: { simMs: 10, regMs: 20, pdpMs: 10 } } }));
  carrier.addAdapter(modem, { makeDefault: true });
  const c = collect<ModemEvent>((fn) => modem.onEvent(fn), 'time');
  const end = carrier.boot(h, () => clock.now());
  await c.seen;
  assert.deepEqual(c.rows, ['sim RDY', 'D mobile:cid1, state0', 'D mobile:NETIF_LINK_ON -> IP_READY', 'ip-ready 10.64.1.2', 'time']);
  c.rows.length = 0;
  modem.detachNetwork();
  assert.deepEqual(c.rows, ['D mobile:NETIF_LINK_OFF -> IP_LOSE', 'ip-lose']);
  end();
  c.off();
});

test('the bindings subscribe per boot: after two boots only the log forwarder listens to the model', async () => {
  const model = new WifiNetwork({ ...REF_NET, timing: FAST });
  const src = `
    sys.subscribe("IP_READY", function(ip, a)
      log.info("ready", ip, a)
      if _G.SECOND then log.info("DONE") else rtos.reboot() end
    end)
    local f = io.open("/booted", "r")
    if f then f:close(); _G.SECOND = true
    else local w = io.open("/booted", "w") w:write("1") w:close() end
    wlan.connect("any", "thing")
    sys.run()
  `;
  let during = -1;
  const r = await runNet({ 'main.lua': src }, model, {
    until: 'I/user.DONE',
    reboot: 'restart',
    maxBoots: 3,
    timeoutMs: 5000,
    cleanup: true,
    onDevice: (d) => d.logSink.on((rec) => {
      if (rec.kind === 'U' && rec.payload.toString('utf8') === 'I/user.DONE') during = model.eventListenerCount;
    }),
  });
  assert.equal(r.timedOut, false, r.lines.join('\n'));
  assert.deepEqual(r.user, ['I/user.ready 192.168.31.234 2', 'I/user.ready 192.168.31.234 2', 'I/user.DONE']);
  // while the second boot runs: its topic listener and the log forwarder (not the first boot's)
  assert.equal(during, 2);
  // the VM ended: its topic listener is gone
  assert.equal(model.eventListenerCount, 1);
  // the firmware lines still reach the device log, before the topic the script sees
  const texts = r.records.map((x) => (x.kind === 'U' ? x.payload.toString('utf8') : `${x.module}:${x.payload.toString('utf8')}`));
  const sta = texts.indexOf('wlan:sta ip 192.168.31.234');
  assert.ok(sta >= 0 && sta < texts.indexOf('I/user.ready 192.168.31.234 2'));
});

test('runtime/net names nothing of the VM or the engines (imports, type imports, declare module)', () => {
  const dir = path.resolve(__dirname, '..', '..', '..', 'runtime', 'net');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.includes('model.ts'), `runtime/net sources not found in ${dir}`);
  const bad: string[] = [];
  for (const f of files) {
    const src = fs.readFileSync(path.join(dir, f), 'utf8');
    for (const m of src.matchAll(/['"]([^'"\n]*core\/(?:vm|engine)[^'"\n]*)['"]/g)) bad.push(`${f}: ${m[1]}`);
  }
  assert.deepEqual(bad, []);
});
