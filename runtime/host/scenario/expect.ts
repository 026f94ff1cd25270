/**
 * The scenario runner's matching logic over the lines logged so far: the first match from the
 * cursor, what a failed search looked at, near misses (the text with another level or tag, a
 * match before the search began), what a pending step waits for, and which VM exits an
 * `expect-reboot` accepts. Pure functions: the run's state is passed in.
 */
import type { VmExit } from '../../core/device';
import { describePattern, LinePattern, LogLine, matches, textMatches } from './pattern';
import type { RebootKind, Step } from './schema';

/** Device time as the reports show it: `1.234s`. */
export function fmtT(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

export function rebootMatches(which: RebootKind, kind: VmExit['kind']): boolean {
  switch (which) {
    case 'any':
      return true;
    case 'crash':
      return kind === 'error' || kind === 'load' || kind === 'returned';
    case 'watchdog':
      return kind === 'watchdog';
    case 'reboot':
      return kind === 'reboot';
  }
}

export function describeExit(kind: VmExit['kind']): string {
  switch (kind) {
    case 'error':
      return 'the Lua VM crashed (an error ended it)';
    case 'load':
      return 'the script failed to load';
    case 'returned':
      return 'main.lua returned (no sys.run()): the VM exited';
    case 'watchdog':
      return 'the watchdog reset the device';
    case 'reboot':
      return 'the script rebooted the device (rtos.reboot)';
    case 'exit':
      return 'the script ended the run (os.exit)';
    default:
      return `the VM ended (${kind})`;
  }
}

/** What a search from line index `from` looked at, by device time `nowMs`. */
export function searched(lines: readonly LogLine[], from: number, nowMs: number): string {
  const n = lines.length - from;
  if (n <= 0) return `no line was logged after line ${from} by ${fmtT(nowMs)}`;
  return `searched ${n} line${n === 1 ? '' : 's'}, #${from + 1} to #${lines.length}, logged by ${fmtT(nowMs)}`;
}

export function firstMatch(lines: readonly LogLine[], p: LinePattern, from: number): LogLine | undefined {
  for (let i = from; i < lines.length; i++) if (matches(p, lines[i])) return lines[i];
  return undefined;
}

/** Hints for a pattern that did not match: near misses and earlier matches. */
export function nearMisses(lines: readonly LogLine[], p: LinePattern, from: number): string[] {
  const hints: string[] = [];
  if (p.level || p.tag !== undefined) {
    const near = lines.slice(from).find((l) => textMatches(p, l));
    if (near) hints.push(`line ${near.no} has the text but level ${near.level}, tag ${near.tag ?? '(none)'}: ${near.body.split('\n')[0]}`);
  }
  const before = lines.slice(0, from).filter((l) => matches(p, l));
  if (before.length) {
    const b = before[before.length - 1];
    hints.push(`a matching line was logged before this step's search began (line ${b.no} at ${fmtT(b.t)}; the search started after line ${from}): ${b.body.split('\n')[0]}`);
  }
  return hints;
}

/** What a step still waits for (a timeout's `expected`); `fleetMissing` names the fleet devices without a match. */
export function pendingWhat(step: Step | undefined, fleetMissing: (p: LinePattern) => string[] | undefined): string | undefined {
  if (!step) return undefined;
  if (step.action.kind === 'expect') return describePattern(step.action.pattern);
  if (step.action.kind === 'fleet-expect') return `${describePattern(step.action.pattern)} on every fleet device (missing: ${fleetMissing(step.action.pattern)?.slice(0, 10).join(', ')})`;
  if (step.action.kind === 'expect-reboot') return `the VM to end (${step.action.which})`;
  if (step.trigger.kind === 'wait-for') return describePattern(step.trigger.pattern);
  return undefined;
}

/** Near-miss hints for the pattern a pending step waits for. */
export function hintsFor(lines: readonly LogLine[], step: Step, cursor: number): string[] {
  const p = step.action.kind === 'expect' ? step.action.pattern : step.trigger.kind === 'wait-for' ? step.trigger.pattern : null;
  return p ? nearMisses(lines, p, cursor) : [];
}
