/**
 * What `luatos test` prints: a result line per scenario, a failure report (the failing step
 * with its index, YAML line and kind, what it expected, hints, the traceback of a crash and
 * the log around the failure point), and JUnit XML for CI.
 */
import * as path from 'node:path';
import { LogLine } from './pattern';
import { ScenarioResult } from './runner';

export const CONTEXT_LINES = 10;

function fmtT(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

function fmtWall(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** One log line for a report: `  #123 +12.345s  luat:U(1121):I/user.main hello`, continuation lines indented. */
export function formatLogLine(l: LogLine, marker = ' '): string {
  const head = `${marker} #${String(l.no).padStart(4)} +${fmtT(l.t).padStart(9)}  `;
  const [first, ...rest] = l.body.replace(/\r/g, '').split('\n');
  return [head + first, ...rest.map((r) => ' '.repeat(head.length) + r)].join('\n');
}

/** The log lines around the failure point (±CONTEXT_LINES), the failing line marked `>`. */
export function failureExcerpt(r: ScenarioResult, context = CONTEXT_LINES): string {
  const f = r.failure;
  if (!f || r.lines.length === 0) return '  (the device logged nothing)';
  const out: string[] = [];
  const marksAt = (n: number, from: number, to: number) => {
    // marks placed after line n (0 = before the first line), within the shown range
    if (n < from || n > to) return;
    for (const m of r.marks ?? []) if (m.after === n) out.push(`  ---- ${m.text} (${fmtT(m.t)}) ----`);
  };
  if (f.between) {
    // the failure happened after line f.at
    const from = Math.max(0, f.at - context);
    const to = Math.min(r.lines.length, f.at + context);
    if (from > 0) out.push(`  ... ${from} earlier line${from === 1 ? '' : 's'}`);
    for (let i = from; i < to; i++) {
      marksAt(i, from, to);
      if (i === f.at) out.push(`  ---- failure point (${fmtT(f.t)}) ----`);
      out.push(formatLogLine(r.lines[i]));
    }
    marksAt(to, from, to);
    if (f.at >= to) out.push(`  ---- failure point (${fmtT(f.t)}) ----`);
    if (to < r.lines.length) out.push(`  ... ${r.lines.length - to} later line${r.lines.length - to === 1 ? '' : 's'}`);
  } else {
    const idx = f.at - 1;
    const from = Math.max(0, idx - context);
    const to = Math.min(r.lines.length, idx + context + 1);
    if (from > 0) out.push(`  ... ${from} earlier line${from === 1 ? '' : 's'}`);
    for (let i = from; i < to; i++) {
      marksAt(i, from, to);
      out.push(formatLogLine(r.lines[i], i === idx ? '>' : ' '));
    }
    if (to < r.lines.length) out.push(`  ... ${r.lines.length - to} later line${r.lines.length - to === 1 ? '' : 's'}`);
  }
  return out.join('\n');
}

export function statusWord(r: ScenarioResult): string {
  return r.status === 'passed' ? 'PASS' : r.status === 'timeout' ? 'TIMEOUT' : r.status === 'error' ? 'ERROR' : 'FAIL';
}

/** `PASS  demo/scenarios/wifi.yaml  Wi-Fi loss (1.2 s wall, 45.000s device, 1 boot)` */
export function resultLine(r: ScenarioResult): string {
  const boots = r.boots ? `, ${r.boots} boot${r.boots === 1 ? '' : 's'}` : '';
  const timing = r.status === 'error' ? '' : ` (${fmtWall(r.wallMs)} wall, ${fmtT(r.deviceMs)} device${boots}, ${r.engine}, ${r.clock} clock)`;
  return `${statusWord(r).padEnd(7)} ${displayPath(r.file)}  ${r.name}${timing}`;
}

/** The one-line failure message (JUnit `message`). */
export function failureMessage(r: ScenarioResult): string {
  const f = r.failure;
  if (!f) return '';
  const s = f.step;
  const where = s ? `step ${s.index} (line ${s.line}, ${s.kind}${s.name ? `, "${s.name}"` : ''}): ` : '';
  return `${where}${f.message}`;
}

/** The multi-line report of a failed scenario (empty for a pass). */
export function failureReport(r: ScenarioResult): string {
  const f = r.failure;
  if (!f) return '';
  const out: string[] = [];
  out.push(`  ${failureMessage(r)}`);
  if (f.step) out.push(`  step:     ${f.step.text}`);
  if (f.expected) out.push(`  expected: ${f.expected}`);
  for (const h of f.hints) out.push(`  hint:     ${h}`);
  if (f.traceback) {
    out.push('  traceback:');
    for (const l of f.traceback.replace(/\r/g, '').split('\n')) out.push(`    ${l}`);
  }
  const done = r.steps.filter((s) => s.status === 'passed').length;
  if (r.steps.length) out.push(`  steps:    ${done} of ${r.steps.length} passed`);
  const marks = r.marks ?? [];
  if (marks.length) {
    // what the scenario did (faults) and what the platform reported, in device time
    out.push('  actions:');
    if (marks.length > 20) out.push(`    ... ${marks.length - 20} earlier`);
    for (const m of marks.slice(-20)) out.push(`    +${fmtT(m.t).padStart(9)}  ${m.text} (after log line ${m.after})`);
  }
  if (r.status !== 'error') {
    out.push(`  log around the failure (line number, device time since the scenario started):`);
    out.push(failureExcerpt(r));
  }
  return out.join('\n');
}

// ------------------------------------------------------------------ JUnit XML

/** Remove what XML 1.0 cannot carry (control characters, lone surrogates), then escape. */
export function xmlEscape(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex -- keeps only the characters XML 1.0 allows
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** JUnit XML: one testsuite, one testcase per scenario; failures carry the report with the log excerpt. */
export function junitXml(results: ScenarioResult[], suiteName = 'luatos scenarios'): string {
  const failures = results.filter((r) => r.status === 'failed' || r.status === 'timeout').length;
  const errors = results.filter((r) => r.status === 'error').length;
  const total = results.reduce((a, r) => a + r.wallMs, 0) / 1000;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const attrs = `name="${xmlEscape(suiteName)}" tests="${results.length}" failures="${failures}" errors="${errors}" skipped="0" time="${total.toFixed(3)}"`;
  out.push(`<testsuites ${attrs}>`);
  out.push(`  <testsuite ${attrs} timestamp="${new Date().toISOString().replace(/\.\d+Z$/, '')}">`);
  for (const r of results) {
    const cls = displayPath(r.file).replace(/\.ya?ml$/i, '').replace(/[\\/]/g, '.');
    const head = `    <testcase classname="${xmlEscape(cls)}" name="${xmlEscape(r.name)}" file="${xmlEscape(displayPath(r.file))}" time="${(r.wallMs / 1000).toFixed(3)}"`;
    if (r.status === 'passed') {
      out.push(`${head}/>`);
      continue;
    }
    out.push(`${head}>`);
    const tag = r.status === 'error' ? 'error' : 'failure';
    const type = r.status === 'timeout' ? 'timeout' : r.status === 'error' ? 'error' : (r.failure?.step?.kind ?? 'crash');
    out.push(`      <${tag} message="${xmlEscape(failureMessage(r))}" type="${xmlEscape(type)}">${xmlEscape(failureReport(r))}</${tag}>`);
    out.push('    </testcase>');
  }
  out.push('  </testsuite>');
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}
