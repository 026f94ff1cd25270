/**
 * The scenario file format: parsing, defaults, and error messages with line numbers.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDuration, parseScenario, ScenarioError, splitArgs } from '../../runtime/host/scenario/schema';
import { compilePattern, makeLogLine, matches } from '../../runtime/host/scenario/pattern';
import { tempDir } from '../helpers/tmp';

const dir = tempDir('luatos-schema-');
fs.mkdirSync(path.join(dir, 'app'));
fs.writeFileSync(path.join(dir, 'app', 'main.lua'), 'sys.run()\n');
fs.writeFileSync(path.join(dir, 'p.json'), JSON.stringify({ name: 'dev1', exitRebootDelayMs: 100 }));
const file = path.join(dir, 'x.yaml');

function parse(src: string) {
  return parseScenario(src, file);
}
function parseErr(src: string): ScenarioError {
  try {
    parse(src);
  } catch (e) {
    assert.ok(e instanceof ScenarioError, String(e));
    return e;
  }
  assert.fail('no error');
}

test('durations', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('12s'), 12000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('2m'), 120000);
  assert.equal(parseDuration('1h'), 3600000);
  assert.equal(parseDuration('1m30s'), 90000);
  assert.equal(parseDuration(3), 3000);
  assert.equal(parseDuration('0'), 0);
  assert.throws(() => parseDuration('soon'), /bad duration 'soon'/);
  assert.throws(() => parseDuration('5 parsecs'), /bad duration/);
  assert.throws(() => parseDuration(-1), /bad duration/);
});

test('fault arguments: whitespace and "quotes"', () => {
  assert.deepEqual(splitArgs('fail video.luatos.com 500 2'), ['fail', 'video.luatos.com', '500', '2']);
  assert.deepEqual(splitArgs('lamp "half off"'), ['lamp', 'half off']);
});

test('a full scenario: defaults, profile file, steps with triggers, actions and YAML lines', () => {
  const sc = parse(`name: demo
scripts: app
profile: p.json
options:
  platform: local
  camera: testsrc
  timeout: 2m
  wifi: ["lab:secret"]
  map: video.luatos.com:10030=127.0.0.1:8080
steps:
  - wait-for: /IP_READY/
    timeout: 10s
  - at: 12s
    wifi: down
  - after: 1s
    wifi: password "new pass" lab
  - expect: 已开始推流
    level: info
    tag: rtmp状态变化
    within: 5s
  - expect-not: /error/i
  - http: fail video.luatos.com 500 2
  - rtmp-server: throttle 200
  - dns: fail video.luatos.com
  - camera: unplug
  - reboot
  - expect-reboot
  - expect-reboot: watchdog
    within: 30s
  - fault: lamp on
`);
  assert.equal(sc.name, 'demo');
  assert.equal(sc.scriptsDir, path.join(dir, 'app'));
  assert.equal(sc.profile.name, 'dev1');
  assert.equal(sc.options.platform, 'local');
  assert.deepEqual(sc.options.camera, { source: 'testsrc' });
  assert.equal(sc.options.timeoutMs, 120000);
  assert.equal(sc.options.wallTimeoutMs, 180000);
  assert.equal(sc.options.clock, 'virtual');
  assert.equal(sc.options.engine, 'wasmoon');
  assert.equal(sc.options.allowReboot, false);
  assert.equal(sc.options.maxBoots, 10);
  assert.deepEqual(sc.options.wifi, ['lab:secret']);
  assert.deepEqual(sc.options.map, ['video.luatos.com:10030=127.0.0.1:8080']);
  const s = sc.steps;
  assert.equal(s.length, 13);
  assert.deepEqual(
    s.map((x) => [x.index, x.line, x.kind]),
    [
      [1, 11, 'wait-for'],
      [2, 13, 'wifi'],
      [3, 15, 'wifi'],
      [4, 17, 'expect'],
      [5, 21, 'expect-not'],
      [6, 22, 'http'],
      [7, 23, 'rtmp-server'],
      [8, 24, 'dns'],
      [9, 25, 'camera'],
      [10, 26, 'reboot'],
      [11, 27, 'expect-reboot'],
      [12, 28, 'expect-reboot'],
      [13, 30, 'fault lamp'],
    ],
  );
  assert.deepEqual(s[0].trigger, { kind: 'wait-for', pattern: compilePattern('/IP_READY/'), timeoutMs: 10000 });
  assert.deepEqual(s[1].trigger, { kind: 'at', ms: 12000 });
  assert.deepEqual(s[1].action, { kind: 'fault', fault: 'wifi', args: ['down'] });
  assert.deepEqual(s[2].trigger, { kind: 'after', ms: 1000 });
  assert.deepEqual(s[2].action, { kind: 'fault', fault: 'wifi', args: ['password', 'new pass', 'lab'] });
  assert.equal(s[3].action.kind, 'expect');
  if (s[3].action.kind === 'expect') {
    assert.equal(s[3].action.withinMs, 5000);
    assert.equal(s[3].action.pattern.level, 'I');
    assert.equal(s[3].action.pattern.tag, 'rtmp状态变化');
    assert.equal(s[3].action.pattern.text, '已开始推流');
  }
  assert.deepEqual(s[5].action, { kind: 'fault', fault: 'http', args: ['fail', 'video.luatos.com', '500', '2'] });
  assert.deepEqual(s[9].action, { kind: 'fault', fault: 'reboot', args: [] });
  assert.deepEqual(s[10].action, { kind: 'expect-reboot', which: 'any' });
  assert.deepEqual(s[11].action, { kind: 'expect-reboot', which: 'watchdog', withinMs: 30000 });
  assert.deepEqual(s[12].action, { kind: 'fault', fault: 'lamp', args: ['on'] });
  assert.equal(s[3].text, 'expect: 已开始推流, level: info, tag: rtmp状态变化, within: 5s');
});

test('errors carry the file and line', () => {
  const cases: [string, RegExp][] = [
    ['scripts: app\nsteps:\n  - expect: a\n    witin: 3s\n', /x\.yaml:4: step 1: unknown key 'witin'/],
    ['scripts: app\nsteps:\n  - at: 1s\n    wait-for: x\n', /x\.yaml:4: step 1: only one of at \/ after \/ wait-for/],
    ['scripts: app\nsteps:\n  - expect: a\n    wifi: down\n', /x\.yaml:4: step 1: only one action per step/],
    ['scripts: app\nsteps:\n  - wifi: sideways\n', /x\.yaml:3: step 1: wifi: expected 'down \| up \| password <new> \[ssid\]', got 'sideways'/],
    ['scripts: app\nsteps:\n  - wifi: password a b c\n', /x\.yaml:3: step 1: wifi: expected/],
    ['scripts: app\nsteps:\n  - http: fail host 5000\n', /x\.yaml:3: step 1: http: expected 'fail <host> <status \| reset \| timeout> \[count \| always\] \| ok \[host\]'/],
    ['scripts: app\nsteps:\n  - rtmp-server: throttle fast\n', /x\.yaml:3: step 1: rtmp-server/],
    ['scripts: app\nsteps:\n  - expect: /a(/\n', /x\.yaml:3: step 1: expect: bad regular expression/],
    ['scripts: app\nsteps:\n  - expect: /a/g\n', /regex flags may only be i, m, s, u/],
    ['scripts: app\nsteps:\n  - expect: a\n    level: loud\n', /x\.yaml:4: step 1: level must be D, I, W or E/],
    ['scripts: app\nsteps:\n  - wifi: down\n    within: 1s\n', /x\.yaml:4: step 1: within only applies to/],
    ['scripts: app\nsteps:\n  - expect: a\n    timeout: 1s\n', /x\.yaml:4: step 1: timeout only applies to wait-for/],
    ['scripts: app\nsteps:\n  - explode\n', /x\.yaml:3: step 1: 'explode' is not a step/],
    ['scripts: app\nsteps: []\n', /x\.yaml:2: the scenario needs 'steps:'/],
    ['steps:\n  - reboot\n', /the scenario needs 'scripts:'/],
    ['scripts: nowhere\nsteps:\n  - reboot\n', /x\.yaml:1: script folder not found/],
    ['scripts: app\nprofile: none.json\nsteps:\n  - reboot\n', /x\.yaml:2: profile file not found/],
    ['scripts: app\noptions:\n  platform: cloud\nsteps:\n  - reboot\n', /x\.yaml:3: platform is 'local' or 'none'/],
    ['scripts: app\noptions:\n  colour: red\nsteps:\n  - reboot\n', /x\.yaml:3: unknown option 'colour'/],
    ['scripts: app\noptions:\n  allow-reboot: yes please\nsteps:\n  - reboot\n', /x\.yaml:3: allow-reboot must be true or false/],
    ['scripts: app\nstepz:\n  - reboot\n', /x\.yaml:2: unknown key 'stepz'/],
    ['scripts: app\nsteps:\n  - expect: [a\n', /x\.yaml:\d+: YAML: /],
  ];
  for (const [src, re] of cases) assert.match(parseErr(src).message, re, src);
});

test('patterns: text, regex, level and tag against log lines; UTF-8', () => {
  const rec = (kind: 'U' | 'D', payload: string, module?: string) => makeLogLine({ kind, ms: 1234, wall: 0, payload: Buffer.from(payload), module, boot: 1 }, 1, 1234);
  const u = rec('U', 'W/user.netdrv_wifi.ip_lose_func IP_LOSE');
  const zh = rec('U', 'I/user.rtmp状态变化 已开始推流');
  const fw = rec('D', 'STA connected lab ', 'wlan');
  assert.equal(u.body, 'luat:U(1234):W/user.netdrv_wifi.ip_lose_func IP_LOSE');
  assert.equal(u.level, 'W');
  assert.equal(u.tag, 'netdrv_wifi.ip_lose_func');
  assert.ok(matches(compilePattern('IP_LOSE', 'W', 'netdrv_wifi.ip_lose_func'), u));
  assert.ok(!matches(compilePattern('IP_LOSE', 'I'), u));
  assert.ok(!matches(compilePattern('IP_LOSE', undefined, 'netdrv_wifi'), u));
  assert.ok(matches(compilePattern('已开始推流', 'I', 'rtmp状态变化'), zh));
  assert.ok(!matches(compilePattern('已开始拉流'), zh));
  assert.ok(matches(compilePattern('/推流$/u'), zh));
  assert.ok(matches(compilePattern('/^luat:D\\(\\d+\\):wlan:STA connected/', 'D', 'wlan'), fw));
  assert.ok(!matches(compilePattern('/sta connected/'), fw));
  assert.ok(matches(compilePattern('/sta connected/i'), fw));
});

test('a value with ": " gives a hint that names the fix (quote it), with its line', () => {
  const e = parseErr('scripts: app\nsteps:\n  - expect: rtmp状态变化: 4\n');
  assert.match(e.message, /x\.yaml:3: YAML: Nested mappings are not allowed in compact mappings/);
  assert.match(e.message, /a value that contains ": " must be quoted: - expect: 'rtmp状态变化: 4'/);
  const q = parseErr("scripts: app\nsteps:\n  - wait-for: it's: done\n");
  assert.match(q.message, /must be quoted: - wait-for: "it's: done"/);
  // the hinted form parses
  const ok = parse("scripts: app\nsteps:\n  - expect: 'rtmp状态变化: 4'\n");
  assert.equal(ok.steps.length, 1);
  // other YAML errors get no such hint
  assert.doesNotMatch(parseErr('scripts: app\nsteps:\n  - expect: [a\n').message, /must be quoted/);
});
