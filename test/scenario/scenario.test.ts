/**
 * `luatos test` scenarios: the runner against small fixture scripts (test/fixtures/scenarios),
 * the reports, JUnit XML and the command's exit codes. Every scenario boots a real device
 * (both engines for the main pass/fail pair); the clock is virtual unless a test says so.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { runScenario, RunScenarioOptions, ScenarioResult } from '../../runtime/host/scenario/runner';
import { failureReport, junitXml, xmlEscape } from '../../runtime/host/scenario/report';
import { testCommand } from '../../runtime/host/scenario/command';
import { Device } from '../../runtime/core/device';
import { tempDir } from '../helpers/tmp';

const FIX = [path.join(__dirname, '..', 'fixtures', 'scenarios'), path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'scenarios')].find((p) =>
  fs.existsSync(path.join(p, 'basic-pass.yaml')),
) as string;
const fx = (name: string) => path.join(FIX, name);

/** the test fault: `fault: lamp <state...>` publishes LAMP to the script */
function lampFault(d: Device): void {
  d.faults.register({ name: 'lamp', usage: '<state>', description: 'test lamp (fixture)' }, (args) => {
    if (!d.vm || d.vm.isDead) throw new Error('no VM');
    d.vm.publish('LAMP', args.join(' '));
  });
}

async function run(name: string, o: RunScenarioOptions = {}): Promise<ScenarioResult> {
  return await runScenario(fx(name), o);
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

for (const engine of ['wasmoon', 'fengari'] as const) {
  test(`[${engine}] a passing scenario: Chinese text with level/tag, a regex, wait-for, expect-not, at: under the virtual clock`, async () => {
    const r = await run('basic-pass.yaml', { engine });
    assert.equal(r.status, 'passed', failureReport(r));
    assert.equal(r.exitCode, 0);
    assert.ok(r.steps.every((s) => s.status === 'passed'));
    // `at: 12s` then `after: 5s`: the scenario ends at exactly 17 s of device time
    assert.equal(r.deviceMs, 17000);
    assert.equal(r.steps[4].started, 5000); // the at: step began once step 3 matched (5 s)...
    assert.equal(r.steps[4].ended, 12000); // ...and ran at 12 s
    assert.ok(r.lines.some((l) => l.body === 'luat:U(0):I/user.main 启动完成 温度 25'));
    console.log(`  [${engine}] 17 s of device time took ${r.wallMs.toFixed(0)} ms of wall time`);
  });

  test(`[${engine}] a failing expect: the report names the step, its YAML line, the expected text and shows the log around it`, async () => {
    const r = await run('basic-fail.yaml', { engine });
    assert.equal(r.status, 'failed');
    assert.equal(r.exitCode, 1);
    const rep = failureReport(r);
    assert.match(rep, /step 2 \(line 5, expect\): expected line not seen: no line matched within 4\.000s/);
    assert.match(rep, /expected: a line containing "连接成功"/);
    // 连接失败 is in the log and must not count as 连接成功
    assert.match(rep, /W\/user\.net 连接失败 code -1/);
    assert.match(rep, /---- failure point \(6\.000s\) ----/);
    // lines before and after the failure point
    assert.match(rep, /#\s+5 \+\s+2\.000s {2}luat:U\(2000\):I\/user\.tick count 2/);
    assert.match(rep, /#\s+10 \+\s+6\.000s {2}luat:U\(6000\):I\/user\.tick count 6/);
    assert.equal(r.steps[0].status, 'passed');
    assert.equal(r.steps[1].status, 'failed');
  });
}

test('the same scenario gives the same log lines (virtual clock, apart from wall stamps)', async () => {
  const a = await run('basic-pass.yaml');
  const b = await run('basic-pass.yaml');
  assert.deepEqual(
    a.lines.map((l) => l.body),
    b.lines.map((l) => l.body),
  );
});

test('expect-not as a guard fails on the forbidden line and marks it in the excerpt', async () => {
  const r = await run('expect-not-fail.yaml');
  assert.equal(r.exitCode, 1);
  const rep = failureReport(r);
  assert.match(rep, /step 1 \(line 4, expect-not\): a forbidden line appeared \(line 9 at 5\.000s\)/);
  assert.match(rep, /expected: no line containing "连接失败" until the end of the scenario/);
  assert.match(rep, /^> #\s+9 \+\s+5\.000s {2}luat:U\(5000\):W\/user\.net 连接失败 code -1$/m);
  // ±10 lines: line 1 is within reach, so no "earlier lines" marker
  assert.match(rep, /#\s+1 \+\s+0\.000s/);
});

test('expect-not within a window: fails when the line appears in it', async () => {
  const r = await run('expect-not-within.yaml');
  assert.equal(r.exitCode, 1);
  assert.equal(r.failure?.step?.index, 2);
  assert.equal(r.failure?.at, 9);
});

test('wait-for with its own timeout fails the step (exit 1), with level narrowing', async () => {
  const r = await run('wait-for-timeout.yaml');
  assert.equal(r.status, 'failed');
  assert.equal(r.exitCode, 1);
  assert.match(failureReport(r), /step 2 \(line 5, wait-for\): wait-for timed out: no line matched within 2\.000s/);
  assert.match(failureReport(r), /expected: a line containing "reconnected" \(level I\)/);
});

test('a near miss (right text, wrong level) is pointed out', async () => {
  const r = await run('near-miss.yaml');
  assert.equal(r.exitCode, 1);
  assert.match(failureReport(r), /hint: +line 9 has the text but level W, tag net/);
});

test('the scenario timeout elapsing with a step pending gives exit 42', async () => {
  const r = await run('timeout.yaml');
  assert.equal(r.status, 'timeout');
  assert.equal(r.exitCode, 42);
  assert.equal(r.deviceMs, 20000);
  assert.match(failureReport(r), /scenario timeout: 20\.000s of device time elapsed with step 1 of 1 still waiting/);
});

test('a fault step runs a fault registered on the device (test fault from the fixture), at the right device time', async () => {
  const r = await run('fault-lamp.yaml', { onDevice: lampFault });
  assert.equal(r.status, 'passed', failureReport(r));
  const on = r.lines.find((l) => l.body.endsWith('灯状态 on'));
  const half = r.lines.find((l) => l.body.endsWith('灯状态 half off'));
  assert.ok(on && half);
  assert.equal(on.t, 2000); // right after the wait-for match at 2 s, before time moved on
  assert.equal(half.t, 10000); // at: 10s
});

test('the same fault step fails with a clear message when nobody registered it', async () => {
  const r = await run('fault-lamp.yaml');
  assert.equal(r.exitCode, 1);
  assert.match(failureReport(r), /step 2 \(line 7, fault lamp\): the fault 'lamp on' could not run: no fault 'lamp' is available on this device \(available: [^)]*reboot/);
  // the fault step is marked in the log excerpt where it ran
  assert.match(failureReport(r), /I\/user\.alive\n {2}---- step 2: lamp on \(2\.000s\) ----\n {2}---- failure point \(2\.000s\) ----/);
});

test('a fault kind nobody registered fails with the list of available faults', async () => {
  const r = await run('fault-missing.yaml');
  assert.equal(r.exitCode, 1);
  assert.match(failureReport(r), /step 1 \(line 4, fault nobody-has-this\): the fault 'nobody-has-this now' could not run: no fault 'nobody-has-this' is available on this device \(available: [^)]*reboot/);
});

test('a crash fails the scenario and the report shows the traceback', async () => {
  const r = await run('crash-fails.yaml');
  assert.equal(r.status, 'failed');
  assert.equal(r.exitCode, 1);
  const rep = failureReport(r);
  assert.match(rep, /step 1 \(line 4, wait-for\): the Lua VM crashed \(an error ended it\) during step 1/);
  assert.match(rep, /traceback:\n {4}.*main\.lua:6: attempt to index a nil value \(local 'cfg'\)\n {4}stack traceback:\n {4}\tmain\.lua:6: in function/);
  assert.match(rep, /Lua VM exit!! reboot in/);
  assert.match(rep, /add an expect-reboot step or set options: \{ allow-reboot: true \}/);
});

test('expect-reboot: crash accepts the crash; the device reboots and the scenario goes on', async () => {
  const r = await run('crash-expected.yaml');
  assert.equal(r.status, 'passed', failureReport(r));
  assert.equal(r.exits.length, 2);
  assert.ok(r.exits.every((x) => x.kind === 'error' && x.accepted === 'expect-reboot'));
});

test('rtos.reboot: expected twice passes; unexpected fails; allow-reboot tolerates it', async () => {
  const exp = await run('reboot-expected.yaml');
  assert.equal(exp.status, 'passed', failureReport(exp));
  assert.equal(exp.boots, 3);
  const un = await run('reboot-unexpected.yaml');
  assert.equal(un.exitCode, 1);
  assert.match(failureReport(un), /the script rebooted the device \(rtos\.reboot\) during step 1/);
  assert.match(failureReport(un), /step 2 expects a reboot, but the device went down earlier/);
  const al = await run('reboot-allowed.yaml');
  assert.equal(al.status, 'passed', failureReport(al));
  assert.deepEqual(
    al.exits.map((x) => x.accepted),
    ['allow-reboot', 'allow-reboot'],
  );
});

test('a reboot loop fails even with allow-reboot, showing the last traceback', async () => {
  const r = await run('reboot-loop.yaml');
  assert.equal(r.exitCode, 1);
  assert.match(failureReport(r), /reboot loop: the device booted 3 times \(max-boots 3\)/);
  assert.match(failureReport(r), /attempt to index a nil value \(local 'cfg'\)/);
});

test("the scenario's own reboot step does not fail it", async () => {
  const r = await run('reboot-step.yaml');
  assert.equal(r.status, 'passed', failureReport(r));
  assert.equal(r.boots, 2);
  assert.equal(r.exits[0].accepted, 'reboot step');
});

test('the real clock works too (at: 1500ms, within: 0s)', async () => {
  const r = await run('real-clock.yaml');
  assert.equal(r.status, 'passed', failureReport(r));
  assert.ok(r.wallMs >= 1400, `wall ${r.wallMs}`);
});

test('an invalid scenario is an error result naming the file and line', async () => {
  const r = await run('invalid.yaml');
  assert.equal(r.status, 'error');
  assert.equal(r.exitCode, 1);
  assert.match(r.failure?.message ?? '', /invalid\.yaml:5: step 1: unknown key 'witin'/);
});

// ------------------------------------------------------------------ JUnit XML

/** A strict little XML 1.0 well-formedness check (elements, attributes, entities, characters). */
function checkXml(xml: string): void {
  // eslint-disable-next-line no-control-regex -- the characters XML 1.0 allows
  assert.ok(!/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(xml), 'illegal XML character');
  let s = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const badAmp = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  let root = 0;
  while (s.length) {
    if (s.startsWith('<')) {
      const m = /^<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>/.exec(s);
      assert.ok(m, `bad tag at: ${s.slice(0, 60)}`);
      assert.ok(!badAmp.test(m[3]), `bad & in attributes: ${m[3]}`);
      const names = [...m[3].matchAll(/([A-Za-z_][\w.-]*)=/g)].map((x) => x[1]);
      assert.equal(new Set(names).size, names.length, 'duplicate attribute');
      if (m[1]) assert.equal(stack.pop(), m[2], `mismatched </${m[2]}>`);
      else if (!m[4]) {
        if (stack.length === 0) root++;
        stack.push(m[2]);
      } else if (stack.length === 0) root++;
      s = s.slice(m[0].length);
    } else {
      const i = s.indexOf('<');
      const text = i < 0 ? s : s.slice(0, i);
      assert.ok(!badAmp.test(text), `bad & in text: ${text.slice(0, 80)}`);
      assert.ok(stack.length > 0 || text.trim() === '', 'text outside the root element');
      s = i < 0 ? '' : s.slice(i);
    }
  }
  assert.equal(stack.length, 0, `unclosed: ${stack.join(' ')}`);
  assert.equal(root, 1, 'exactly one root element');
}

function pythonXmlCheck(file: string): boolean | null {
  const r = spawnSync('python3', ['-c', 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])', file], { encoding: 'utf8' });
  if (r.error) return null; // no python3 on this host
  return r.status === 0;
}

test('the XML checker itself rejects broken XML', () => {
  assert.throws(() => checkXml('<a><b></a></b>'));
  assert.throws(() => checkXml('<a x="1 & 2"/>'));
  assert.throws(() => checkXml('<a>1 < 2</a>'));
  assert.throws(() => checkXml('<a>\u0001</a>'));
  checkXml('<?xml version="1.0"?>\n<a x="&amp;&quot;"><b/>t &lt; &#20;</a>\n');
});

test('xmlEscape escapes markup and drops characters XML cannot carry', () => {
  assert.equal(xmlEscape(`<a href="x">&'\u0001\u001b[31m中\uD800`), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;[31m中');
});

test('luatos test --junit: well-formed XML, one testcase per scenario, failure message and log excerpt, escaping', async () => {
  const dir = tempDir('luatos-junit-');
  const file = path.join(dir, 'sub', 'junit.xml');
  const out = new Collect();
  const code = await testCommand([fx('suite-mixed'), '--junit', file], out);
  assert.equal(code, 1);
  const xml = fs.readFileSync(file, 'utf8');
  checkXml(xml);
  const py = pythonXmlCheck(file);
  if (py !== null) assert.equal(py, true, 'python3 xml.dom.minidom rejected the file');
  assert.equal((xml.match(/<testcase /g) ?? []).length, 4);
  assert.match(xml, /<testsuites name="luatos scenarios" tests="4" failures="2" errors="1"/);
  assert.match(xml, /<testcase classname="[^"]*suite-mixed\.1-pass" name="mixed pass" [^>]*\/>/);
  // the scenario name with markup, quotes and Chinese
  assert.match(xml, /name="mixed &lt;fail&gt; &amp; &quot;quotes&quot; 中文"/);
  assert.match(xml, /<failure message="step 2 \(line 5, expect\): expected line not seen[^"]*" type="expect">/);
  // the log excerpt inside the failure, escaped; the control characters are gone
  assert.match(xml, /I\/user\.xml &lt;tag attr=&quot;v&quot;&gt; &amp; &apos;apos&apos; \]\]&gt; \[31m red 中文/);
  assert.match(xml, /<failure message="step 1 \(line 6, expect\): scenario timeout[^"]*" type="timeout">/);
  assert.match(xml, /<error message="invalid scenario: 4-invalid\.yaml:4: at: bad duration &apos;soon&apos;/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('junitXml of passing results has no failure elements', () => {
  const r: ScenarioResult = { file: '/x/a.yaml', name: 'a', status: 'passed', exitCode: 0, steps: [], lines: [], exits: [], marks: [], boots: 1, wallMs: 12, deviceMs: 100, clock: 'virtual', engine: 'wasmoon' };
  const xml = junitXml([r]);
  checkXml(xml);
  assert.ok(!/<failure|<error/.test(xml));
});

// ------------------------------------------------------------------ the command

test('luatos test <folder>: every *.yaml/*.yml in it, sequentially; summary as the last line; exit 0', async () => {
  const out = new Collect();
  const code = await testCommand([fx('suite-pass')], out);
  assert.equal(code, 0, out.text);
  const lines = out.text.trimEnd().split('\n');
  assert.match(lines[0], /^PASS +\S*suite-pass[\\/]a\.yaml {2}suite a/);
  assert.match(lines[1], /^PASS +\S*suite-pass[\\/]b\.yml {2}suite b/);
  assert.equal(lines[lines.length - 1], '2 passed, 0 failed');
});

test('luatos test: a timeout and no failure gives exit 42', async () => {
  const out = new Collect();
  const code = await testCommand([fx('suite-timeout')], out);
  assert.equal(code, 42, out.text);
  assert.equal(out.text.trimEnd().split('\n').pop(), '1 passed, 1 failed (1 timed out)');
  assert.match(out.text, /^TIMEOUT +\S*b\.yaml {2}suite timeout b/m);
});

test('luatos test: a failure gives exit 1 and the report; several targets; --log-dir keeps the logs', async () => {
  const dir = tempDir('luatos-logdir-');
  const out = new Collect();
  const code = await testCommand([fx('basic-fail.yaml'), fx('suite-pass/a.yaml'), '--log-dir', dir], out);
  assert.equal(code, 1);
  assert.match(out.text, /^FAIL +\S*basic-fail\.yaml/m);
  assert.match(out.text, /step 2 \(line 5, expect\)/);
  assert.equal(out.text.trimEnd().split('\n').pop(), '1 passed, 1 failed');
  const log = fs.readFileSync(path.join(dir, 'basic-fail.log'), 'utf8');
  assert.match(log, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] luat:U\(0\):I\/user\.main 启动完成 温度 25$/m);
  assert.ok(fs.existsSync(path.join(dir, 'a.log')));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('luatos test: usage errors give exit 2', async () => {
  for (const args of [[], ['--bogus', fx('suite-pass')], [path.join(FIX, 'no-such.yaml')], [path.join(FIX, 'basic')], ['--engine', 'luajit', fx('suite-pass')]]) {
    const out = new Collect();
    assert.equal(await testCommand(args, out), 2, `${args.join(' ')}: ${out.text}`);
    assert.match(out.text, /^luatos test: /);
  }
});

test('luatos test --engine fengari overrides the scenario', async () => {
  const out = new Collect();
  const code = await testCommand([fx('suite-pass/a.yaml'), '--engine', 'fengari'], out);
  assert.equal(code, 0, out.text);
  assert.match(out.text, /fengari, virtual clock/);
});

test('luatos test --verbose streams the device log while the scenario runs, and stops with it', async () => {
  const out = new Collect();
  const code = await testCommand([fx('suite-pass/a.yaml'), '--verbose'], out);
  assert.equal(code, 0, out.text);
  const lines = out.text.trimEnd().split('\n');
  const pass = lines.findIndex((l) => l.startsWith('PASS'));
  assert.ok(pass > 0);
  assert.ok(lines.slice(0, pass).some((l) => /\] luat:U\(0\):I\/user\.main 启动完成 温度 25$/.test(l)));
  assert.deepEqual(lines.slice(pass + 1), ['1 passed, 0 failed']);
});
