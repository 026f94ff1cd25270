/**
 * The 4G Cat.1 boards (air780epm, ...) and their modem model (runtime/net/cellular.ts): boot
 * sequence, mobile.* values, traffic over adapter 1 to a real server on 127.0.0.1, the modem
 * faults through device.faults, the fault steps of scenarios and the web console's buttons.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtualClock } from '../../runtime/core/clock';
import type { Device } from '../../runtime/core/device';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { FaultError } from '../../runtime/core/faults';
import { boardProfile, findBoard, getBoard, setupBoard } from '../../runtime/boards';
import { modemOf, modemOptionsFromProfile } from '../../runtime/net/cellular';
import { LINK_DOWN, NetError } from '../../runtime/net/types';
import { runScenario } from '../../runtime/host/scenario/runner';
import { loadScenario } from '../../runtime/host/scenario/schema';
import { runLua, RunLuaResult } from '../helpers/run-lua';

const IDS = { imei: '861234567890128', mobile: { imsi: '460001234567890', iccid: '89860012345678901234', ip: '10.64.12.34' } };

/** Boot `main.lua` on the air780epm board (virtual clock) and collect the log. */
async function run780(src: string, opts: { engine?: string; until?: string; profile?: Record<string, unknown>; onDevice?: (d: Device) => void; timeoutMs?: number; board?: string; reboot?: 'restart' | 'exit' } = {}): Promise<RunLuaResult> {
  const board = getBoard(opts.board ?? 'air780epm');
  const profile = boardProfile(board, IDS, opts.profile ?? {}) as unknown as Record<string, unknown>;
  return runLua(
    { 'main.lua': src.includes('sys.run()') ? src : `${src}\nsys.run()\n` },
    {
      engine: (opts.engine ?? 'wasmoon') as 'wasmoon',
      until: opts.until ?? 'DONE',
      timeoutMs: opts.timeoutMs ?? 15000,
      reboot: opts.reboot,
      profile,
      device: { clock: new VirtualClock() },
      onDevice: (d) => {
        setupBoard(board, d);
        opts.onDevice?.(d);
      },
    },
  );
}

/** remove the run's script folder and its data folder (runLua leaves both) */
function cleanup(r: RunLuaResult): void {
  fs.rmSync(r.dir, { recursive: true, force: true });
  fs.rmSync(r.device.opts.dataDir, { recursive: true, force: true });
}

/** U-line payload → device ms, for the lines starting with `prefix` */
function userTimes(r: RunLuaResult, prefix: string): number[] {
  return r.records.filter((x) => x.kind === 'U' && x.payload.toString().startsWith(prefix)).map((x) => Math.round(x.ms));
}

for (const engine of ENGINE_NAMES) {
  test(`air780epm boots like the modem: SIM_IND RDY, registration, IP_READY(ip, 1); mobile.* before and after (${engine})`, async () => {
    const src = `
      sys.subscribe("SIM_IND", function(s) log.info("SIM_IND", s, mobile.status()) end)
      sys.taskInit(function()
        log.info("early", mobile.status(), mobile.csq(), mobile.iccid(), mobile.imsi(), mobile.apn(), mobile.eci())
        local ok, ip, adapter = sys.waitUntil("IP_READY", 20000)
        log.info("ready", ok, ip, adapter, adapter == socket.LWIP_GP)
        log.info("mobile", mobile.status(), mobile.csq(), mobile.rssi(), mobile.rsrp(), mobile.rsrq(), mobile.snr())
        log.info("ids", mobile.imei(), mobile.imsi(), mobile.iccid(), mobile.number(), mobile.simid())
        log.info("apn", mobile.apn(), mobile.eci() > 0, mobile.tac() > 0, mobile.enbid() >= 0)
        log.info("socket", socket.dft(), socket.adapter(1), socket.localIP(1))
        log.info("dft", socket.dft())
        log.info("bsp", rtos.bsp(), mobile.flymode(0), mobile.REGISTERED, mobile.SEARCH, mobile.PIN_VERIFY)
        log.info("DONE")
      end)
    `;
    const r = await run780(src, { engine });
    try {
      assert.deepEqual(r.user, [
        'I/user.early 0 25 nil nil nil -1',
        'I/user.SIM_IND RDY 2',
        'I/user.ready true 10.64.12.34 1 true',
        'I/user.mobile 1 25 -63 -85 -8 15',
        'I/user.ids 861234567890128 460001234567890 89860012345678901234 nil 0',
        'I/user.apn cmnet true true true',
        'I/user.socket 1 true 10.64.12.34 255.255.255.255 0.0.0.0 nil',
        'I/user.dft 1 1',
        'I/user.bsp Air780EPM false 1 2 0',
        'I/user.DONE',
      ]);
      // device time on the virtual clock: SIM read at 300 ms, IP at 300 + 1800 + 600 ms
      assert.deepEqual(userTimes(r, 'I/user.SIM_IND'), [300]);
      assert.deepEqual(userTimes(r, 'I/user.ready'), [2700]);
      // the firmware's lines at IP_READY, before the script sees it
      const i = r.lines.findIndex((l) => l.includes('mobile:NETIF_LINK_ON -> IP_READY'));
      assert.ok(i > 0 && r.lines[i - 1].includes('mobile:cid1, state0'), 'cid1/NETIF_LINK_ON lines');
    } finally {
      cleanup(r);
    }
  });

  test(`the SIM pulled and put back: SIM_IND NORDY, IP_LOSE(1), the open connection dies; then RDY and IP_READY again (${engine})`, async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/slow') return; // never answers: the connection stays open
      res.end('pong');
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    const port = (server.address() as { port: number }).port;
    const src = `
      sys.subscribe("SIM_IND", function(s) log.info("SIM_IND", s, mobile.iccid(), mobile.status()) end)
      sys.subscribe("IP_LOSE", function(a) log.info("IP_LOSE", a, mobile.status(), socket.adapter(1)) end)
      sys.taskInit(function()
        sys.waitUntil("IP_READY")
        local code, _, body = http.request("GET", "http://api.modem.test/ping").wait()
        log.info("first", code, body)
        sys.taskInit(function()
          local c = http.request("GET", "http://api.modem.test/slow", nil, nil, {timeout = 60000}).wait()
          log.info("slow", c)
        end)
        sys.wait(100)
        log.info("PULL")
        local ok, ip, a = sys.waitUntil("IP_READY", 30000)
        log.info("again", ok, ip, a)
        code, _, body = http.request("GET", "http://api.modem.test/ping").wait()
        log.info("second", code, body)
        log.info("DONE")
      end)
    `;
    let dev: Device | null = null;
    const r = await run780(src, {
      engine,
      profile: { network: { hosts: { 'api.modem.test': `127.0.0.1:${port}` } } },
      onDevice: (d) => {
        dev = d;
        d.logSink.on((rec) => {
          const t = rec.payload.toString();
          if (t === 'I/user.PULL') void d.faults.run('sim', ['remove']).then(() => d.clock.setTimer(5000, () => void d.faults.run('sim', ['insert'])));
        });
      },
    });
    server.close();
    try {
      assert.ok(dev);
      assert.deepEqual(r.user, [
        'I/user.SIM_IND RDY 89860012345678901234 2',
        'I/user.first 200 pong',
        'I/user.PULL',
        'I/user.SIM_IND NORDY nil 0',
        'I/user.IP_LOSE 1 0 false 1',
        // the open request ends with HTTP_ERROR_CLOSE (-5) when the link drops
        'I/user.slow -5',
        'I/user.SIM_IND RDY 89860012345678901234 2',
        'I/user.again true 10.64.12.34 1',
        'I/user.second 200 pong',
        'I/user.DONE',
      ]);
      assert.ok(r.lines.some((l) => l.includes('mobile:NETIF_LINK_OFF -> IP_LOSE')));
    } finally {
      cleanup(r);
    }
  });
}

test('signal none / good, network detach / attach, flight mode on / off: IP_LOSE and recovery, values by level', async () => {
  const src = `
    sys.subscribe("IP_LOSE", function(a) log.info("IP_LOSE", a, mobile.status(), mobile.csq()) end)
    sys.subscribe("IP_READY", function(ip, a) log.info("IP_READY", a, mobile.status(), mobile.csq()) end)
    sys.taskInit(function()
      sys.waitUntil("IP_READY")
      log.info("STEP", "signal none")
      sys.waitUntil("IP_LOSE")
      log.info("STEP", "signal weak")
      sys.waitUntil("IP_READY")
      log.info("weak", mobile.csq(), mobile.rssi(), mobile.rsrp(), mobile.rsrq(), mobile.snr())
      log.info("STEP", "network detach")
      sys.waitUntil("IP_LOSE")
      log.info("STEP", "network attach")
      sys.waitUntil("IP_READY")
      log.info("STEP", "flightmode on")
      sys.waitUntil("IP_LOSE")
      log.info("flight", mobile.flymode(0), mobile.status(), mobile.csq())
      log.info("STEP", "flightmode off")
      sys.waitUntil("IP_READY")
      -- the script's own flight mode: previous state returned
      log.info("fly", mobile.flymode(0, true))
      sys.waitUntil("IP_LOSE")
      log.info("fly", mobile.flymode(0, false))
      sys.waitUntil("IP_READY")
      log.info("DONE")
    end)
  `;
  const r = await run780(src, {
    onDevice: (d) => {
      d.logSink.on((rec) => {
        const m = /^I\/user\.STEP (\S+) (\S+)$/.exec(rec.payload.toString());
        if (m) void d.faults.run(m[1], [m[2]]);
      });
    },
  });
  try {
    assert.deepEqual(
      r.user.filter((l) => !l.startsWith('I/user.STEP')),
      [
        'I/user.IP_READY 1 1 25',
        'I/user.IP_LOSE 1 2 0',
        'I/user.IP_READY 1 1 8',
        'I/user.weak 8 -97 -116 -16 -3',
        'I/user.IP_LOSE 1 0 8',
        'I/user.IP_READY 1 1 8',
        'I/user.IP_LOSE 1 0 0',
        'I/user.flight true 0 0',
        'I/user.IP_READY 1 1 8',
        'I/user.fly false',
        'I/user.IP_LOSE 1 0 0',
        'I/user.fly true',
        'I/user.IP_READY 1 1 8',
        'I/user.DONE',
      ],
    );
    // weak signal: registration takes twice as long (3600 ms) before the 600 ms PDP step
    const steps = r.records.filter((x) => x.kind === 'U');
    const tWeak = steps.find((x) => x.payload.toString() === 'I/user.STEP signal weak')!.ms;
    const tReady = steps.filter((x) => x.payload.toString() === 'I/user.IP_READY 1 1 8')[0].ms;
    assert.equal(Math.round(tReady - tWeak), 4200);
  } finally {
    cleanup(r);
  }
});

test('a SIM with a PIN: SIM_IND SIM_PIN, no IMSI and no registration until mobile.simPin verifies it', async () => {
  const src = `
    sys.subscribe("SIM_IND", function(s) log.info("SIM_IND", s, mobile.imsi(), mobile.status()) end)
    sys.taskInit(function()
      sys.waitUntil("SIM_IND")
      log.info("wrong", mobile.simPin(0, mobile.PIN_VERIFY, "0000"), mobile.status())
      log.info("change", mobile.simPin(0, mobile.PIN_CHANGE, "1234", "4321"))
      log.info("right", mobile.simPin(0, mobile.PIN_VERIFY, "1234"))
      local ok, ip, a = sys.waitUntil("IP_READY", 10000)
      log.info("ready", ok, a)
      log.info("DONE")
    end)
  `;
  const r = await run780(src, { profile: { mobile: { pin: '1234' } } });
  try {
    assert.deepEqual(r.user, [
      'I/user.SIM_IND SIM_PIN nil 0',
      'I/user.wrong false 0',
      'I/user.change false',
      // SIM_IND is queued like every published event: it arrives after simPin returned
      'I/user.right true',
      'I/user.SIM_IND RDY 460001234567890 2',
      'I/user.ready true 1',
      'I/user.DONE',
    ]);
  } finally {
    cleanup(r);
  }
});

test('no SIM at boot (profile mobile.sim false): SIM_IND NORDY, no IP_READY, adapter 1 not ready', async () => {
  const src = `
    sys.subscribe("SIM_IND", function(s) log.info("SIM_IND", s, mobile.iccid(), mobile.status()) end)
    sys.taskInit(function()
      local ok = sys.waitUntil("IP_READY", 5000)
      log.info("ready", ok, mobile.status(), socket.adapter(1))
      log.info("DONE")
    end)
  `;
  const r = await run780(src, { profile: { mobile: { sim: false } } });
  try {
    assert.deepEqual(r.user, ['I/user.SIM_IND NORDY nil 0', 'I/user.ready false 0 false 1', 'I/user.DONE']);
  } finally {
    cleanup(r);
  }
});

test('mobile.apn: the user APN applies from the next registration; bad arguments raise', async () => {
  const src = `
    sys.taskInit(function()
      sys.waitUntil("IP_READY")
      log.info("apn", mobile.apn(0, 1, "iot.example", "", ""))
      log.info("bad", pcall(mobile.apn, 0, 1, "x"))
      log.info("long", pcall(mobile.apn, 0, 1, string.rep("a", 101), "", ""))
      mobile.flymode(0, true)
      mobile.flymode(0, false)
      sys.waitUntil("IP_READY")
      log.info("apn", mobile.apn())
      log.info("DONE")
    end)
  `;
  const r = await run780(src);
  try {
    assert.equal(r.user[0], 'I/user.apn cmnet');
    assert.match(r.user[1], /^I\/user\.bad false .*bad argument #4 to 'apn' \(string expected, got no value\)/);
    assert.match(r.user[2], /^I\/user\.long false .*bad argument #3 to 'apn' \(apn name too long\)/);
    assert.equal(r.user[3], 'I/user.apn iot.example');
  } finally {
    cleanup(r);
  }
});

test('the modem as a DeviceNetwork: connectTcp on adapter 1 reaches a real server while online; a detach destroys the socket (LINK_DOWN) and new connections fail with link-down', async () => {
  const server = net.createServer((c) => c.on('data', (d) => c.write(d)));
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const port = (server.address() as net.AddressInfo).port;
  const seen: string[] = [];
  const src = `
    sys.taskInit(function()
      sys.waitUntil("IP_READY")
      log.info("ONLINE")
      sys.waitUntil("IP_LOSE")
      log.info("LOST")
      sys.wait(200)
      log.info("DONE")
    end)
  `;
  const r = await run780(src, {
    onDevice: (d) => {
      d.logSink.on((rec) => {
        const t = rec.payload.toString();
        const modem = modemOf(d)!;
        if (t === 'I/user.ONLINE') {
          seen.push(`ready ${modem.adapterReady(1)} dft ${modem.defaultAdapter()}`);
          void modem.connectTcp({ host: 'echo.modem.test', port: 7, owner: 'test' }).then((sock) => {
            sock.once('data', (b) => {
              seen.push(`echo ${b.toString()}`);
              sock.once('close', () => seen.push(`closed ${String((sock as net.Socket & { [LINK_DOWN]?: string })[LINK_DOWN])}`));
              void d.faults.run('network', ['detach']);
            });
            sock.write('hi');
          });
        }
        if (t === 'I/user.LOST') {
          seen.push(`ready ${modem.adapterReady(1)}`);
          modem.connectTcp({ host: '127.0.0.1', port }).then(
            () => seen.push('connected?!'),
            (e: NetError) => seen.push(`refused ${e instanceof NetError ? e.kind : String(e)}`),
          );
        }
      });
    },
    profile: { network: { hosts: { 'echo.modem.test': `127.0.0.1:${port}` } } },
  });
  server.close();
  try {
    // the socket's close event comes on a later tick than the script's IP_LOSE: order not compared
    assert.deepEqual([...seen].sort(), ['closed the cellular link went down', 'echo hi', 'ready false', 'ready true dft 1', 'refused link-down']);
    assert.ok(r.lines.some((l) => l.includes(`net:adapter 1 connect 127.0.0.1:${port} TCP`)), 'connect line on adapter 1, mapped address');
  } finally {
    cleanup(r);
  }
});

test('a reboot restarts the modem: unregistered at boot, SIM read and IP_READY again; flight mode does not survive it', async () => {
  const src = `
    local f = io.open("/boots.txt")
    local n = f and tonumber(f:read("*a")) or 0
    if f then f:close() end
    n = n + 1
    local w = io.open("/boots.txt", "w") w:write(tostring(n)) w:close()
    sys.taskInit(function()
      log.info("boot", n, mobile.status(), socket.adapter(1), mobile.flymode(0))
      local ok, ip, a = sys.waitUntil("IP_READY", 10000)
      log.info("ready", n, ok, a)
      if n == 1 then
        mobile.flymode(0, true)
        rtos.reboot()
      else
        log.info("DONE")
      end
    end)
  `;
  const r = await run780(src, { reboot: 'restart' });
  try {
    assert.deepEqual(r.user, ['I/user.boot 1 0 false false', 'I/user.ready 1 true 1', 'I/user.boot 2 0 false false', 'I/user.ready 2 true 1', 'I/user.DONE']);
    assert.equal(r.device.boots, 2);
  } finally {
    cleanup(r);
  }
});

test('base-station time: NTP_UPDATE(1) once per boot after the first IP_READY; none with mobile.syncTime(false)', async () => {
  const src = `
    sys.subscribe("NTP_UPDATE", function(a) log.info("NTP_UPDATE", a) end)
    sys.taskInit(function()
      sys.waitUntil("IP_READY")
      mobile.flymode(0, true)
      mobile.flymode(0, false)
      sys.waitUntil("IP_READY")
      sys.wait(100)
      log.info("DONE")
    end)
  `;
  const r = await run780(src);
  const off = await run780(`log.info("sync", mobile.syncTime(false))\n${src}`);
  try {
    assert.deepEqual(r.user, ['I/user.NTP_UPDATE 1', 'I/user.DONE']);
    assert.deepEqual(off.user, ['I/user.sync false', 'I/user.DONE']);
  } finally {
    cleanup(r);
    cleanup(off);
  }
});

test('the variants air780ehm/ehv/egh exist by name (case-insensitive) with their module name as bsp', () => {
  for (const n of ['air780epm', 'Air780EHM', 'air780ehv', 'AIR780EGH']) {
    const b = findBoard(n);
    assert.ok(b, n);
    assert.equal((b.profile as { bsp: string }).bsp.toLowerCase(), n.toLowerCase());
  }
});

test('modem faults: registered with their actions (the web console makes one button per alternative); bad arguments are clear errors', async () => {
  const r = await run780('log.info("DONE")');
  try {
    const d = r.device;
    const list = d.faults.list();
    const byName = new Map(list.map((f) => [f.name, f]));
    for (const [name, alts] of [
      ['sim', ['remove', 'insert']],
      ['signal', ['none', 'weak', 'good']],
      ['network', ['detach', 'attach']],
      ['flightmode', ['on', 'off']],
    ] as const) {
      const f = byName.get(name);
      assert.ok(f, name);
      // the page's own parser (runtime/host/web/static/usage.js) turns the usage into buttons
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const u = require(path.resolve(__dirname, '..', '..', '..', 'runtime', 'host', 'web', 'static', 'usage.js'));
      assert.deepEqual(u.parseUsage(f.usage).map((a: { label: string }) => a.label), [...alts]);
      for (const a of alts) assert.ok(f.actions?.[a], `${name} ${a} has a tooltip text`);
    }
    await assert.rejects(d.faults.run('sim', ['eject']), (e: Error) => e instanceof FaultError && /sim: expected remove \| insert, got 'eject'/.test(e.message));
    await assert.rejects(d.faults.run('signal', []), (e: Error) => e instanceof FaultError && /signal: expected none \| weak \| good/.test(e.message));
    assert.ok(modemOf(d));
    // no Wi-Fi station on the module: no Wi-Fi fault (nor its buttons); DNS faults stay
    assert.equal(d.faults.has('wifi'), false);
    assert.equal(d.faults.has('dns'), true);
  } finally {
    cleanup(r);
  }
});

test('hostile profile values are refused with readable messages', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ imei: '12345' }, /profile imei must be 15 digits/],
    [{ mobile: { iccid: 'x'.repeat(5000) } }, /mobile\.iccid must be 19 or 20 digits/],
    [{ mobile: { csq: 99 } }, /mobile\.csq must be a whole number 1\.\.31/],
    [{ mobile: { ip: '300.1.1.1' } }, /mobile\.ip must be a dotted IPv4 address/],
    [{ mobile: { signal: 'strong' } }, /mobile\.signal must be/],
    [{ mobile: { timing: { regMs: -1 } } }, /mobile\.timing\.regMs must be/],
    [{ mobile: { pin: { toString: 1 } } }, /mobile\.pin must be 4 to 8 digits/],
  ];
  for (const [p, re] of bad) assert.throws(() => modemOptionsFromProfile({ name: 'x', ...p }), re);
  // a __proto__ key in the section is a plain key, never the options' prototype
  const o = modemOptionsFromProfile(JSON.parse('{"name":"x","mobile":{"__proto__":{"csq":3}}}'));
  assert.equal(o.csq, 25);
});

test('scenario steps sim/signal/network/flightmode parse with their argument checks', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'luatos-modem-sc-'));
  try {
    fs.writeFileSync(path.join(dir, 'main.lua'), 'sys.run()');
    const ok = path.join(dir, 'ok.yaml');
    fs.writeFileSync(ok, 'scripts: .\noptions:\n  board: air780epm\nsteps:\n  - sim: remove\n  - signal: weak\n  - network: detach\n  - flightmode: "on"\n');
    const sc = loadScenario(ok);
    assert.deepEqual(
      sc.steps.map((s) => (s.action.kind === 'fault' ? [s.action.fault, ...s.action.args] : [])),
      [['sim', 'remove'], ['signal', 'weak'], ['network', 'detach'], ['flightmode', 'on']],
    );
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'scripts: .\nsteps:\n  - signal: loud\n');
    assert.throws(() => loadScenario(bad), /step 1: signal: expected 'none \| weak \| good', got 'loud'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the example scenario (examples/air780epm/scenarios/sim-pull.yaml) passes: the SIM is pulled, IP_LOSE, the script recovers and requests again', async () => {
  const file = path.resolve(__dirname, '..', '..', '..', 'examples', 'air780epm', 'scenarios', 'sim-pull.yaml');
  const res = await runScenario(file);
  assert.equal(res.status, 'passed', res.failure ? JSON.stringify(res.failure).slice(0, 2000) : '');
  const texts = res.lines.map((l) => l.body);
  const idx = (re: RegExp) => texts.findIndex((t) => re.test(t));
  assert.ok(idx(/SIM_IND NORDY/) < idx(/IP_LOSE 1/) && idx(/IP_LOSE 1/) < idx(/http round 2 code 200/));
});

for (const engine of ENGINE_NAMES) {
  test(`netdrv.link(1) / netdrv.ipv4(1) report the cellular netif: down and 0.0.0.0 before IP_READY, up with the modem's IP after, down again on IP_LOSE (${engine})`, async () => {
    const src = `
      local function show(what)
        local ip, mask, gw = netdrv.ipv4(socket.LWIP_GP)
        log.info(what, netdrv.link(socket.LWIP_GP), ip, mask, gw, netdrv.ready(socket.LWIP_GP))
      end
      show("BOOT")
      sys.taskInit(function()
        sys.waitUntil("IP_READY")
        show("READY")
        -- setting an address on the cellular netif does not change it
        netdrv.ipv4(socket.LWIP_GP, "192.168.1.9", "255.255.255.0", "192.168.1.1")
        show("SET")
        log.info("SETUP", netdrv.setup(socket.LWIP_GP), netdrv.dhcp(socket.LWIP_GP, true))
        log.info("STEP")
        sys.waitUntil("IP_LOSE")
        show("LOST")
        log.info("DONE")
      end)
    `;
    const r = await run780(src, {
      engine,
      onDevice: (d) => {
        d.logSink.on((rec) => {
          if (rec.payload.toString() === 'I/user.STEP') void d.faults.run('network', ['detach']);
        });
      },
    });
    try {
      assert.deepEqual(
        r.user.filter((l) => /^I\/user\.(BOOT|READY|SET|SETUP|LOST) /.test(l)),
        [
          'I/user.BOOT false 0.0.0.0 0.0.0.0 0.0.0.0 false',
          'I/user.READY true 10.64.12.34 255.255.255.255 0.0.0.0 true',
          'I/user.SET true 10.64.12.34 255.255.255.255 0.0.0.0 true',
          'I/user.SETUP true true',
          'I/user.LOST false 0.0.0.0 0.0.0.0 0.0.0.0 false',
        ],
      );
    } finally {
      cleanup(r);
    }
  });
}
