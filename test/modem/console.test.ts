/**
 * The web console on an air780epm: its fault list (GET /api/info) has the modem's faults, and
 * the `sim remove` button's request (POST /api/fault) pulls the SIM: the script sees IP_LOSE.
 * A real console server on 127.0.0.1 and a real device; no browser (the buttons themselves are
 * built from that list by static/usage.js, checked in modem.test.ts).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { VirtualClock } from '../../runtime/core/clock';
import { boardProfile, getBoard, setupBoard } from '../../runtime/boards';
import { startWebConsole, WebConsole } from '../../runtime/host/web';
import { runLua } from '../helpers/run-lua';

test('web console on air780epm: /api/info lists sim/signal/network/flightmode (no wifi); POST sim remove makes the script see IP_LOSE', async () => {
  const board = getBoard('air780epm');
  let con: WebConsole | null = null;
  let started: Promise<WebConsole> | null = null;
  const seen: string[] = [];
  const src = `
    sys.taskInit(function()
      sys.waitUntil("IP_READY")
      log.info("ONLINE")
      local ok, a = sys.waitUntil("IP_LOSE", 20000)
      log.info("LOST", ok, a, mobile.iccid())
      log.info("DONE")
    end)
    sys.run()
  `;
  const r = await runLua(
    { 'main.lua': src },
    {
      until: 'DONE',
      timeoutMs: 20000,
      profile: boardProfile(board) as unknown as Record<string, unknown>,
      device: { clock: new VirtualClock() },
      onDevice: (d) => {
        setupBoard(board, d);
        started = startWebConsole({ device: d, port: 0, onWarning: () => undefined });
        d.logSink.on((rec) => {
          if (rec.payload.toString() !== 'I/user.ONLINE') return;
          // real I/O from the test: the virtual clock must not jump ahead meanwhile
          const release = d.clock.hold('test: console requests');
          void (async () => {
            con = await (started as Promise<WebConsole>);
            const info = (await (await fetch(new URL('/api/info', con.url))).json()) as { faults: { name: string; usage: string }[]; token: string };
            seen.push(info.faults.map((f) => `${f.name}: ${f.usage}`).sort().join('; '));
            const origin = new URL(con.url).origin;
            const res = await fetch(new URL('/api/fault', con.url), {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', 'X-Console-Token': info.token, Origin: origin },
              body: JSON.stringify({ name: 'sim', args: ['remove'] }),
            });
            seen.push(`${res.status} ${JSON.stringify(await res.json())}`);
          })()
            .catch((e) => seen.push(`error ${(e as Error).message}`))
            .finally(release);
        });
      },
    },
  );
  try {
    if (!con) con = await (started as unknown as Promise<WebConsole>);
    await (con as WebConsole).close();
    assert.deepEqual(seen, [
      // camera: registered by the camera binding on every board
      'camera: unplug | plug; dns: fail <host> | ok; flightmode: on | off; network: detach | attach; reboot: ; signal: none | weak | good; sim: remove | insert',
      '200 {"ok":true}',
    ], JSON.stringify({ user: r.user, stop: r.stop, timedOut: r.timedOut, lines: r.lines.slice(-8) }));
    assert.deepEqual(r.user, ['I/user.ONLINE', 'I/user.LOST true 1 nil', 'I/user.DONE']);
  } finally {
    fs.rmSync(r.dir, { recursive: true, force: true });
    fs.rmSync(r.device.opts.dataDir, { recursive: true, force: true });
  }
});
