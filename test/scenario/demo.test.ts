/**
 * The demo scenarios (demo/scenarios/*.yaml): each passes against demo/ and fails, with a
 * useful report, against a deliberately broken variant (test/fixtures/broken-demo/<variant>,
 * laid over a copy of demo/). Real parts only: the local platform (HTTP API + node-media-server
 * ingest), the Wi-Fi model, ffmpeg's test source as the camera.
 *
 * The scenarios use `clock: real` (see the report in demo/scenarios): the RTMP and Wi-Fi ones
 * take over a minute each because the demo waits 60 s before it reconnects. Two run at a time.
 */
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runScenario, ScenarioResult } from '../../runtime/host/scenario/runner';
import { failureReport } from '../../runtime/host/scenario/report';
import { tempDir } from '../helpers/tmp';

const ROOT = [path.join(__dirname, '..', '..'), path.join(__dirname, '..', '..', '..')].find((p) => fs.existsSync(path.join(p, 'demo', 'scenarios'))) as string;
const SCEN = path.join(ROOT, 'demo', 'scenarios');
const BROKEN = path.join(ROOT, 'test', 'fixtures', 'broken-demo');

/** demo/*.lua with the variant's edits (patch.json) applied, in a temp folder */
function assemble(variant: string): string {
  const dir = tempDir(`luatos-broken-${variant}-`);
  for (const f of fs.readdirSync(path.join(ROOT, 'demo'))) if (f.endsWith('.lua')) fs.copyFileSync(path.join(ROOT, 'demo', f), path.join(dir, f));
  const patch = JSON.parse(fs.readFileSync(path.join(BROKEN, variant, 'patch.json'), 'utf8')) as { file: string; edits: { find: string; replace: string }[] };
  const target = path.join(dir, patch.file);
  assert.ok(fs.existsSync(target), `${variant}/patch.json edits no demo file (${patch.file})`);
  let text = fs.readFileSync(target, 'utf8');
  assert.ok(patch.edits.length > 0, `variant ${variant} has no edits`);
  for (const e of patch.edits) {
    const n = text.split(e.find).length - 1;
    assert.equal(n, 1, `${variant}: the text to replace occurs ${n} times in demo/${patch.file} (the demo changed?)`);
    text = text.replace(e.find, () => e.replace);
  }
  fs.writeFileSync(target, text);
  return dir;
}

interface Case {
  scenario: string;
  variant: string;
  /** what the broken run's report must say */
  broken: (r: ScenarioResult, report: string) => void;
}

const CASES: Case[] = [
  {
    scenario: 'rtmp-server-drop.yaml',
    variant: 'no-rtmp-reconnect',
    broken: (r, rep) => {
      assert.equal(r.failure?.step?.index, 6);
      assert.match(rep, /step 6 \(line \d+, expect\): expected line not seen: no line matched within 90\.000s/);
      assert.match(rep, /expected: a line containing "已连接到推流服务器" \(tag rtmp状态变化\)/);
      assert.match(rep, /actions:\n.*step 3: rtmp-server kill .*\n(.*\n)*.*step 5: rtmp-server restart /);
    },
  },
  {
    scenario: 'wifi-loss.yaml',
    variant: 'no-wifi-autoreconnect',
    broken: (r, rep) => {
      assert.equal(r.failure?.step?.index, 8);
      assert.match(rep, /step 8 \(line \d+, expect\): expected line not seen: no line matched within 15\.000s/);
      assert.match(rep, /expected: a line containing "IP_READY" \(tag netdrv_wifi\.ip_ready_func\)/);
      assert.match(rep, /actions:\n.*step 4: wifi down .*\n(.*\n)*.*step 7: wifi up /);
    },
  },
  {
    scenario: 'task-error-reboot.yaml',
    variant: 'swallowed-task-error',
    broken: (r, rep) => {
      assert.equal(r.failure?.step?.index, 2);
      assert.match(rep, /step 2 \(line \d+, expect\): expected line not seen/);
      // the swallowed error is right there in the excerpt
      assert.match(rep, /W\/user\.rtmp_task failed .*bad argument #1 to 'create'/);
    },
  },
  {
    scenario: 'platform-500.yaml',
    variant: 'gives-up-on-http-error',
    broken: (r, rep) => {
      assert.equal(r.failure?.step?.index, 3);
      assert.match(rep, /step 3 \(line \d+, expect-reboot\): no crash within 10\.000s/);
      assert.match(rep, /W\/user\.请求视频URL失败 500/);
    },
  },
  {
    scenario: 'wifi-wrong-password.yaml',
    variant: 'password-typo',
    broken: (r, rep) => {
      assert.equal(r.failure?.step?.index, 6);
      assert.match(rep, /step 6 \(line \d+, expect\): expected line not seen: no line matched within 15\.000s/);
      assert.match(rep, /STA disconnected, reason 258/);
      assert.match(rep, /actions:\n.*step 5: wifi password HZ88888888 茶室-降功耗,找合宙! /);
    },
  },
];

describe('demo scenarios', { concurrency: 2 }, () => {
  test('every demo scenario has a case here', () => {
    const files = fs.readdirSync(SCEN).filter((f) => f.endsWith('.yaml')).sort();
    assert.deepEqual(files, CASES.map((c) => c.scenario).sort());
  });
  for (const c of CASES) {
    test(`${c.scenario} passes against demo/`, async () => {
      const r = await runScenario(path.join(SCEN, c.scenario));
      console.log(`  ${c.scenario} vs demo/: ${r.status} in ${(r.wallMs / 1000).toFixed(1)} s wall, ${(r.deviceMs / 1000).toFixed(1)} s device`);
      assert.equal(r.status, 'passed', failureReport(r));
      assert.equal(r.exitCode, 0);
    });
    test(`${c.scenario} fails against broken-demo/${c.variant}, with a useful report`, async () => {
      const dir = assemble(c.variant);
      try {
        const r = await runScenario(path.join(SCEN, c.scenario), { scripts: dir });
        const rep = failureReport(r);
        console.log(`  ${c.scenario} vs ${c.variant}: ${r.status} in ${(r.wallMs / 1000).toFixed(1)} s wall`);
        assert.equal(r.status, 'failed', rep);
        assert.equal(r.exitCode, 1);
        assert.match(rep, /log around the failure/);
        c.broken(r, rep);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
