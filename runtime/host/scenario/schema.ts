/**
 * The scenario file (`luatos test`): YAML, read and checked here with line numbers.
 *
 *   name: Wi-Fi loss and recovery          # optional, default: the file name
 *   scripts: ..                            # script folder, relative to this file (required)
 *   profile: ../profile.json               # optional: a profile file (relative) or an inline mapping
 *   options:                               # all optional
 *     platform: none                       # local | none: start the local video platform (runtime/host/platform)
 *     camera: testsrc                      # camera source (profile camera.source), or a mapping merged
 *                                          # into the profile's camera section
 *     engine: lua53                        # lua53 (default) | wasmoon | fengari
 *     board: pc                            # the board, like --board (default air8101; luatos boards)
 *     clock: virtual                       # virtual (default) | real
 *     timeout: 60s                         # device time for the whole scenario (default 60s) → exit 42
 *     wall-timeout: 120s                   # wall-clock safety net (default: timeout + 60s) → exit 42
 *     wifi: ["lab:secret"]                 # virtual access points SSID:PASSWORD (none = any SSID joins)
 *     map: ["video.luatos.com:10030=127.0.0.1:8080"]   # host mapping, like --map
 *     allow-reboot: false                  # true: VM exits and reboots do not fail the scenario
 *     max-boots: 10                        # more boots than this = a reboot loop: the scenario fails
 *     platform-options: {}                 # passed to startLocalPlatform as is
 *   steps:
 *     - wait-for: /IP_READY/               # trigger: a log line (optional `timeout: 10s` → fail)
 *     - at: 12s                            # trigger: device time since the scenario started
 *       wifi: down                         # action: a fault through device.faults (arguments are
 *                                          # split at spaces; "double quotes" keep a space)
 *     - after: 2s                          # trigger: device time after the previous step
 *       expect: IP_LOSE                    # action: a line must appear (optional within: 5s)
 *       level: W
 *       tag: netdrv_wifi.ip_lose_func
 *     - expect-not: /推流失败/              # within: D → for D of device time; no within → until the end
 *     - expect-reboot: crash               # any | crash | watchdog | reboot (optional within)
 *     - reboot                             # bare words: reboot, expect-reboot
 *     - fault: lamp on                     # any other fault the device registered, by name
 *     - sim: remove                        # cellular boards: sim remove|insert, signal none|weak|good,
 *                                          # network detach|attach, flightmode on|off
 *
 * A step has at most one trigger (`at`, `after` or `wait-for`) and at most one action; a step
 * with only a trigger just waits. Durations: `500ms`, `12s`, `1.5s`, `2m`, `1h`, `1m30s`, or a
 * bare number of seconds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Document, isMap, isScalar, isSeq, LineCounter, Node, parseDocument, Scalar, YAMLMap } from 'yaml';
import { DEFAULT_ENGINE, ENGINE_NAMES, EngineName } from '../../core/device';
import { boardNames, findBoard } from '../../boards';
import { compilePattern, Level, LinePattern, parseLevel } from './pattern';

export class ScenarioError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line?: number,
  ) {
    super(line ? `${path.basename(file)}:${line}: ${message}` : `${path.basename(file)}: ${message}`);
    this.name = 'ScenarioError';
  }
}

export type Trigger =
  | { kind: 'none' }
  | { kind: 'at'; ms: number }
  | { kind: 'after'; ms: number }
  | { kind: 'wait-for'; pattern: LinePattern; timeoutMs?: number };

export type RebootKind = 'any' | 'crash' | 'watchdog' | 'reboot';

export type Action =
  | { kind: 'none' }
  | { kind: 'expect'; pattern: LinePattern; withinMs?: number }
  | { kind: 'expect-not'; pattern: LinePattern; withinMs?: number }
  | { kind: 'expect-reboot'; which: RebootKind; withinMs?: number }
  | { kind: 'fault'; fault: string; args: string[] }
  /** every device of the `fleet:` section must have logged a matching line */
  | { kind: 'fleet-expect'; pattern: LinePattern; withinMs?: number }
  /** a fault on the fleet's devices (the first ceil(N × percent / 100), or all) */
  | { kind: 'fleet-fault'; fault: string; args: string[]; percent?: number };

export interface Step {
  /** 1-based */
  index: number;
  /** line in the YAML file */
  line: number;
  /** optional label (`name:`) */
  name?: string;
  trigger: Trigger;
  action: Action;
  /** short form for reports: "expect", "wifi", "wait-for", ... */
  kind: string;
  /** the step as written, on one line (for reports) */
  text: string;
}

export interface ScenarioOptions {
  platform: 'local' | 'none';
  camera?: Record<string, unknown>;
  engine: EngineName;
  /** the board (runtime/boards/); undefined = the default board */
  board?: string;
  clock: 'virtual' | 'real';
  timeoutMs: number;
  wallTimeoutMs: number;
  wifi: string[];
  map: string[];
  allowReboot: boolean;
  maxBoots: number;
  platformOptions: Record<string, unknown>;
}

/** The `fleet:` section (runtime/host/scenario/fleet.ts). */
export interface ScenarioFleetSpec {
  devices: number;
  prefix: string;
  staggerMs: number;
  /** absolute script folder of the fleet (default: the scenario's) */
  scriptsDir?: string;
}

export interface Scenario {
  /** N more devices next to the scenario's device (`fleet:`) */
  fleet?: ScenarioFleetSpec;
  /** absolute path of the YAML file ('' for scenarios built in code) */
  file: string;
  name: string;
  scriptsDir: string;
  /** profile overrides (parsed file or inline mapping) */
  profile: Record<string, unknown>;
  options: ScenarioOptions;
  steps: Step[];
}

/** The fault kinds a step may name, with their argument check (the device decides if they exist). */
export const FAULT_KINDS: Record<string, { usage: string; check: (a: string[]) => boolean }> = {
  wifi: {
    usage: 'down | up | password <new> [ssid]',
    check: (a) => (a.length === 1 && (a[0] === 'down' || a[0] === 'up')) || (a[0] === 'password' && (a.length === 2 || a.length === 3)),
  },
  'rtmp-server': {
    usage: 'kill | restart | throttle <kbps> | unthrottle',
    check: (a) => (a.length === 1 && ['kill', 'restart', 'unthrottle'].includes(a[0])) || (a.length === 2 && a[0] === 'throttle' && /^\d+(\.\d+)?$/.test(a[1])),
  },
  http: {
    usage: 'fail <host> <status | reset | timeout> [count | always] | ok [host]',
    check: (a) =>
      (a[0] === 'fail' && (a.length === 3 || (a.length === 4 && /^(\d+|always)$/.test(a[3]))) && (/^\d{3}$/.test(a[2]) || a[2] === 'reset' || a[2] === 'timeout')) ||
      (a[0] === 'ok' && a.length <= 2),
  },
  dns: { usage: 'fail <host> | ok', check: (a) => (a.length === 2 && a[0] === 'fail') || (a.length === 1 && a[0] === 'ok') },
  camera: { usage: 'unplug | plug', check: (a) => a.length === 1 && (a[0] === 'unplug' || a[0] === 'plug') },
  reboot: { usage: '(no arguments)', check: (a) => a.length === 0 },
  // the cellular modem (boards air780epm, ...: runtime/net/cellular.ts)
  sim: { usage: 'remove | insert', check: (a) => a.length === 1 && (a[0] === 'remove' || a[0] === 'insert') },
  signal: { usage: 'none | weak | good', check: (a) => a.length === 1 && ['none', 'weak', 'good'].includes(a[0]) },
  network: { usage: 'detach | attach', check: (a) => a.length === 1 && (a[0] === 'detach' || a[0] === 'attach') },
  flightmode: { usage: 'on | off', check: (a) => a.length === 1 && (a[0] === 'on' || a[0] === 'off') },
};

const TRIGGER_KEYS = ['at', 'after', 'wait-for'];
const ACTION_KEYS = ['expect', 'expect-not', 'expect-reboot', 'fault', 'fleet-expect', 'fleet-fault', ...Object.keys(FAULT_KINDS)];
const MODIFIER_KEYS = ['timeout', 'within', 'level', 'tag', 'name', 'percent'];
const OPTION_KEYS = ['platform', 'camera', 'engine', 'board', 'clock', 'timeout', 'wall-timeout', 'wifi', 'map', 'allow-reboot', 'max-boots', 'platform-options'];
const TOP_KEYS = ['name', 'description', 'scripts', 'profile', 'options', 'steps', 'fleet'];
const FLEET_KEYS = ['devices', 'name-prefix', 'stagger', 'scripts'];
/** devices a scenario's fleet may have */
export const SCENARIO_FLEET_MAX = 1000;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60000, min: 60000, h: 3600000 };

/** `500ms`, `12s`, `1.5s`, `2m`, `1h`, `1m30s`, or a number of seconds. Throws on anything else. */
export function parseDuration(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new Error(`bad duration ${v}`);
    return v * 1000;
  }
  const s = String(v).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)\s*(ms|min|s|m|h)/y;
  let total = 0;
  let pos = 0;
  let any = false;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new Error(`bad duration '${s}' (use e.g. 500ms, 12s, 2m, 1h, 1m30s)`);
    total += Number(m[1]) * UNITS[m[2]];
    pos = re.lastIndex;
    while (s[pos] === ' ') pos++;
    any = true;
  }
  if (!any) throw new Error(`bad duration '${s}'`);
  return total;
}

/** Split fault arguments: whitespace separates, "double quotes" group. */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
  return out;
}

class Ctx {
  constructor(
    readonly file: string,
    readonly lc: LineCounter,
    readonly src: string,
  ) {}
  /** the scenario has a `fleet:` section (fleet-* steps need it) */
  hasFleet = false;
  line(n: Node | null | undefined): number | undefined {
    const r = n?.range;
    return r ? this.lc.linePos(r[0]).line : undefined;
  }
  err(msg: string, n?: Node | null): ScenarioError {
    return new ScenarioError(msg, this.file, this.line(n));
  }
}

function scalarValue(n: unknown): unknown {
  return isScalar(n) ? (n as Scalar).value : n;
}

function mapEntries(m: YAMLMap): { key: string; keyNode: Node; value: Node | null }[] {
  return m.items.map((p) => {
    const k = p.key as Node;
    return { key: String(scalarValue(k)), keyNode: k, value: (p.value as Node | null) ?? null };
  });
}

function asString(ctx: Ctx, n: Node | null, what: string): string {
  const v = scalarValue(n);
  if (v === null || v === undefined || typeof v === 'object') throw ctx.err(`${what} needs a text value`, n);
  return String(v);
}

function asStringList(ctx: Ctx, n: Node | null, what: string): string[] {
  if (isSeq(n)) return n.items.map((i) => asString(ctx, i as Node, what));
  return [asString(ctx, n, what)];
}

function asDuration(ctx: Ctx, n: Node | null, what: string): number {
  try {
    return parseDuration(scalarValue(n));
  } catch (e) {
    throw ctx.err(`${what}: ${(e as Error).message}`, n);
  }
}

function asBool(ctx: Ctx, n: Node | null, what: string): boolean {
  const v = scalarValue(n);
  if (typeof v !== 'boolean') throw ctx.err(`${what} must be true or false`, n);
  return v;
}

function stepText(ctx: Ctx, n: Node): string {
  const r = n.range;
  const raw = r ? ctx.src.slice(r[0], r[1]) : String(n);
  return raw.trim().replace(/\s*\n\s*/g, ', ');
}

function parseStep(ctx: Ctx, n: Node, index: number): Step {
  const line = ctx.line(n) ?? 0;
  // bare words
  if (isScalar(n)) {
    const w = String(n.value).trim();
    if (w === 'reboot') return { index, line, trigger: { kind: 'none' }, action: { kind: 'fault', fault: 'reboot', args: [] }, kind: 'reboot', text: 'reboot' };
    if (w === 'expect-reboot') return { index, line, trigger: { kind: 'none' }, action: { kind: 'expect-reboot', which: 'any' }, kind: 'expect-reboot', text: 'expect-reboot' };
    throw ctx.err(`step ${index}: '${w}' is not a step (bare words: reboot, expect-reboot; otherwise a mapping such as "expect: text")`, n);
  }
  if (!isMap(n)) throw ctx.err(`step ${index} must be a mapping (e.g. "- expect: text")`, n);
  const entries = mapEntries(n);
  const get = (k: string) => entries.find((e) => e.key === k);
  for (const e of entries) {
    if (!TRIGGER_KEYS.includes(e.key) && !ACTION_KEYS.includes(e.key) && !MODIFIER_KEYS.includes(e.key)) {
      throw ctx.err(`step ${index}: unknown key '${e.key}' (triggers: ${TRIGGER_KEYS.join(', ')}; actions: ${ACTION_KEYS.join(', ')}; modifiers: ${MODIFIER_KEYS.join(', ')})`, e.keyNode);
    }
  }
  const triggers = entries.filter((e) => TRIGGER_KEYS.includes(e.key));
  const actions = entries.filter((e) => ACTION_KEYS.includes(e.key));
  if (triggers.length > 1) throw ctx.err(`step ${index}: only one of at / after / wait-for per step (split it into two steps)`, triggers[1].keyNode);
  if (actions.length > 1) throw ctx.err(`step ${index}: only one action per step (got ${actions.map((a) => a.key).join(' and ')})`, actions[1].keyNode);
  if (triggers.length === 0 && actions.length === 0) throw ctx.err(`step ${index} has neither a trigger (at/after/wait-for) nor an action`, n);

  const levelE = get('level');
  const tagE = get('tag');
  const timeoutE = get('timeout');
  const withinE = get('within');
  let level: Level | undefined;
  if (levelE) {
    const l = parseLevel(asString(ctx, levelE.value, 'level'));
    if (!l) throw ctx.err(`step ${index}: level must be D, I, W or E (or debug/info/warn/error)`, levelE.value);
    level = l;
  }
  const tag = tagE ? asString(ctx, tagE.value, 'tag') : undefined;
  const pat = (e: { value: Node | null; key: string }) => {
    const src = asString(ctx, e.value, e.key);
    try {
      return compilePattern(src, level, tag);
    } catch (err) {
      throw ctx.err(`step ${index}: ${e.key}: ${(err as Error).message}`, e.value);
    }
  };

  const action = actions[0];
  const trig = triggers[0];
  // level/tag narrow the action's pattern; on a wait-for-only step they narrow the wait
  const patternOwner = action && (action.key === 'expect' || action.key === 'expect-not' || action.key === 'fleet-expect') ? action.key : trig?.key === 'wait-for' ? 'wait-for' : null;
  if ((levelE || tagE) && !patternOwner) throw ctx.err(`step ${index}: level/tag only apply to expect, expect-not or wait-for`, (levelE ?? tagE)!.keyNode);
  if (timeoutE && trig?.key !== 'wait-for') throw ctx.err(`step ${index}: timeout only applies to wait-for (use within for expectations)`, timeoutE.keyNode);
  if (withinE && !(action && ['expect', 'expect-not', 'expect-reboot', 'fleet-expect'].includes(action.key))) {
    throw ctx.err(`step ${index}: within only applies to expect, expect-not, expect-reboot and fleet-expect`, withinE.keyNode);
  }
  const percentE = get('percent');
  if (percentE && action?.key !== 'fleet-fault') throw ctx.err(`step ${index}: percent only applies to fleet-fault`, percentE.keyNode);

  let trigger: Trigger = { kind: 'none' };
  if (trig) {
    if (trig.key === 'at') trigger = { kind: 'at', ms: asDuration(ctx, trig.value, 'at') };
    else if (trig.key === 'after') trigger = { kind: 'after', ms: asDuration(ctx, trig.value, 'after') };
    else {
      const p = patternOwner === 'wait-for' ? pat(trig) : (() => {
        try {
          return compilePattern(asString(ctx, trig.value, 'wait-for'));
        } catch (err) {
          throw ctx.err(`step ${index}: wait-for: ${(err as Error).message}`, trig.value);
        }
      })();
      trigger = { kind: 'wait-for', pattern: p, timeoutMs: timeoutE ? asDuration(ctx, timeoutE.value, 'timeout') : undefined };
    }
  }

  let act: Action = { kind: 'none' };
  if (action) {
    const withinMs = withinE ? asDuration(ctx, withinE.value, 'within') : undefined;
    if (action.key === 'expect' || action.key === 'expect-not') {
      act = { kind: action.key, pattern: pat(action), withinMs };
    } else if (action.key === 'fleet-expect') {
      if (!ctx.hasFleet) throw ctx.err(`step ${index}: fleet-expect needs a 'fleet:' section`, action.keyNode);
      act = { kind: 'fleet-expect', pattern: pat(action), withinMs };
    } else if (action.key === 'fleet-fault') {
      if (!ctx.hasFleet) throw ctx.err(`step ${index}: fleet-fault needs a 'fleet:' section`, action.keyNode);
      const args = isSeq(action.value) ? asStringList(ctx, action.value, 'fleet-fault') : splitArgs(asString(ctx, action.value, 'fleet-fault'));
      if (args.length === 0) throw ctx.err(`step ${index}: fleet-fault needs a fault name (and its arguments)`, action.value ?? action.keyNode);
      const [fault, ...rest] = args;
      const spec = FAULT_KINDS[fault];
      if (spec && !spec.check(rest)) throw ctx.err(`step ${index}: fleet-fault ${fault}: expected '${spec.usage}', got '${rest.join(' ')}'`, action.value);
      let percent: number | undefined;
      if (percentE) {
        percent = Number(scalarValue(percentE.value));
        if (!(percent > 0 && percent <= 100)) throw ctx.err(`step ${index}: percent must be a number in (0, 100]`, percentE.value);
      }
      act = { kind: 'fleet-fault', fault, args: rest, percent };
    } else if (action.key === 'expect-reboot') {
      const v = scalarValue(action.value);
      const which = v === null || v === undefined || v === true || v === '' ? 'any' : String(v);
      if (!['any', 'crash', 'watchdog', 'reboot'].includes(which)) throw ctx.err(`step ${index}: expect-reboot is any, crash, watchdog or reboot`, action.value);
      act = { kind: 'expect-reboot', which: which as RebootKind, withinMs };
    } else if (action.key === 'fault') {
      // any fault the device has registered, by name: `fault: lamp on`
      const args = isSeq(action.value) ? asStringList(ctx, action.value, 'fault') : splitArgs(asString(ctx, action.value, 'fault'));
      if (args.length === 0) throw ctx.err(`step ${index}: fault needs a fault name (and its arguments)`, action.value ?? action.keyNode);
      const [fault, ...rest] = args;
      const spec = FAULT_KINDS[fault];
      if (spec && !spec.check(rest)) throw ctx.err(`step ${index}: fault ${fault}: expected '${spec.usage}', got '${rest.join(' ')}'`, action.value);
      act = { kind: 'fault', fault, args: rest };
    } else {
      const spec = FAULT_KINDS[action.key];
      let args: string[];
      const v = scalarValue(action.value);
      if (action.key === 'reboot' && (v === null || v === undefined || v === true || v === '')) args = [];
      else if (isSeq(action.value)) args = asStringList(ctx, action.value, action.key);
      else {
        args = splitArgs(asString(ctx, action.value, action.key));
      }
      if (!spec.check(args)) throw ctx.err(`step ${index}: ${action.key}: expected ${action.key === 'reboot' ? 'no value' : `'${spec.usage}'`}, got '${args.join(' ')}'`, action.value ?? action.keyNode);
      act = { kind: 'fault', fault: action.key, args };
    }
  }
  const nameE = get('name');
  return {
    index,
    line,
    name: nameE ? asString(ctx, nameE.value, 'name') : undefined,
    trigger,
    action: act,
    kind: action ? (action.key === 'fault' && act.kind === 'fault' ? `fault ${act.fault}` : action.key) : trig.key,
    text: stepText(ctx, n),
  };
}

function parseOptions(ctx: Ctx, n: Node | null): ScenarioOptions {
  const o: ScenarioOptions = {
    platform: 'none',
    engine: DEFAULT_ENGINE,
    clock: 'virtual',
    timeoutMs: 60000,
    wallTimeoutMs: 0,
    wifi: [],
    map: [],
    allowReboot: false,
    maxBoots: 10,
    platformOptions: {},
  };
  let wallSet = false;
  if (n && !(isScalar(n) && n.value === null)) {
    if (!isMap(n)) throw ctx.err('options must be a mapping', n);
    for (const e of mapEntries(n)) {
      switch (e.key) {
        case 'platform': {
          const v = asString(ctx, e.value, 'platform');
          if (v !== 'local' && v !== 'none') throw ctx.err("platform is 'local' or 'none'", e.value);
          o.platform = v;
          break;
        }
        case 'camera':
          if (isMap(e.value)) o.camera = (e.value as YAMLMap).toJSON() as Record<string, unknown>;
          else o.camera = { source: asString(ctx, e.value, 'camera') };
          break;
        case 'engine': {
          const v = asString(ctx, e.value, 'engine');
          if (!ENGINE_NAMES.includes(v as EngineName)) throw ctx.err(`engine is one of ${ENGINE_NAMES.join(', ')}`, e.value);
          o.engine = v as EngineName;
          break;
        }
        case 'board': {
          const v = asString(ctx, e.value, 'board');
          const b = findBoard(v);
          if (!b) throw ctx.err(`board is one of ${boardNames().join(', ')}`, e.value);
          o.board = b.name;
          break;
        }
        case 'clock': {
          const v = asString(ctx, e.value, 'clock');
          if (v !== 'virtual' && v !== 'real') throw ctx.err("clock is 'virtual' or 'real'", e.value);
          o.clock = v;
          break;
        }
        case 'timeout':
          o.timeoutMs = asDuration(ctx, e.value, 'timeout');
          if (o.timeoutMs <= 0) throw ctx.err('timeout must be positive', e.value);
          break;
        case 'wall-timeout':
          o.wallTimeoutMs = asDuration(ctx, e.value, 'wall-timeout');
          if (o.wallTimeoutMs <= 0) throw ctx.err('wall-timeout must be positive', e.value);
          wallSet = true;
          break;
        case 'wifi':
          o.wifi = asStringList(ctx, e.value, 'wifi');
          break;
        case 'map':
          o.map = asStringList(ctx, e.value, 'map');
          break;
        case 'allow-reboot':
          o.allowReboot = asBool(ctx, e.value, 'allow-reboot');
          break;
        case 'max-boots': {
          const v = Number(scalarValue(e.value));
          if (!Number.isInteger(v) || v < 1) throw ctx.err('max-boots must be a whole number >= 1', e.value);
          o.maxBoots = v;
          break;
        }
        case 'platform-options':
          if (!isMap(e.value)) throw ctx.err('platform-options must be a mapping', e.value);
          o.platformOptions = (e.value as YAMLMap).toJSON() as Record<string, unknown>;
          break;
        default:
          throw ctx.err(`unknown option '${e.key}' (known: ${OPTION_KEYS.join(', ')})`, e.keyNode);
      }
    }
  }
  if (!wallSet) o.wallTimeoutMs = o.timeoutMs + 60000;
  return o;
}

/**
 * A hint for the YAML errors a scenario author meets most: a value containing `: ` (`expect:
 * 状态: 4`) reads as a nested mapping, which the YAML library reports as "Nested mappings are not
 * allowed in compact mappings" (code BLOCK_AS_IMPLICIT_KEY) or "Implicit map keys need to be
 * followed by map values" — name the fix: quote the value.
 */
function yamlHint(code: string, src: string, line: number): string {
  if (code !== 'BLOCK_AS_IMPLICIT_KEY' && code !== 'MULTILINE_IMPLICIT_KEY') return '';
  const text = (src.split(/\r?\n/)[line - 1] ?? '').trim();
  const m = /^(-\s*)?([^\s:'"][^:]*):\s+(.*:\s.*)$/.exec(text);
  if (!m) return ' (a value that contains ": " must be quoted)';
  const value = m[3].trim();
  const quoted = value.includes("'") ? JSON.stringify(value) : `'${value}'`;
  return ` — a value that contains ": " must be quoted: ${m[1] ?? ''}${m[2]}: ${quoted}`;
}

/** Parse scenario text. `file` is used for relative paths and messages. Throws ScenarioError. */
export function parseScenario(src: string, file: string): Scenario {
  const abs = path.resolve(file);
  const lc = new LineCounter();
  const ctx = new Ctx(abs, lc, src);
  const doc: Document.Parsed = parseDocument(src, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = lc.linePos(e.pos[0]).line;
    throw new ScenarioError(`YAML: ${e.message.split('\n')[0]}${yamlHint(e.code, src, line)}`, abs, line);
  }
  const root = doc.contents;
  if (!isMap(root)) throw ctx.err('a scenario is a YAML mapping with scripts, options and steps', root);
  const entries = mapEntries(root);
  for (const e of entries) if (!TOP_KEYS.includes(e.key)) throw ctx.err(`unknown key '${e.key}' (known: ${TOP_KEYS.join(', ')})`, e.keyNode);
  const get = (k: string) => entries.find((e) => e.key === k);
  const dir = path.dirname(abs);

  const scriptsE = get('scripts');
  if (!scriptsE) throw ctx.err("the scenario needs 'scripts:' (the script folder, relative to this file)", root);
  const scriptsDir = path.resolve(dir, asString(ctx, scriptsE.value, 'scripts'));
  if (!fs.existsSync(scriptsDir) || !fs.statSync(scriptsDir).isDirectory()) throw ctx.err(`script folder not found: ${scriptsDir}`, scriptsE.value);

  let profile: Record<string, unknown> = {};
  const profE = get('profile');
  if (profE && !(isScalar(profE.value) && profE.value.value === null)) {
    if (isMap(profE.value)) profile = (profE.value as YAMLMap).toJSON() as Record<string, unknown>;
    else {
      const pf = path.resolve(dir, asString(ctx, profE.value, 'profile'));
      let text: string;
      try {
        text = fs.readFileSync(pf, 'utf8');
      } catch {
        throw ctx.err(`profile file not found: ${pf}`, profE.value);
      }
      try {
        const v = /\.ya?ml$/i.test(pf) ? parseDocument(text).toJSON() : JSON.parse(text);
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a mapping');
        profile = v as Record<string, unknown>;
      } catch (e) {
        throw ctx.err(`profile ${pf}: ${(e as Error).message}`, profE.value);
      }
    }
  }

  const options = parseOptions(ctx, get('options')?.value ?? null);
  const fleetE = get('fleet');
  let fleet: ScenarioFleetSpec | undefined;
  if (fleetE) {
    if (!isMap(fleetE.value)) throw ctx.err('fleet must be a mapping (devices, name-prefix, stagger, scripts)', fleetE.value);
    fleet = { devices: 0, prefix: 'dev', staggerMs: 0 };
    for (const e of mapEntries(fleetE.value)) {
      switch (e.key) {
        case 'devices': {
          const v = Number(scalarValue(e.value));
          if (!Number.isInteger(v) || v < 1 || v > SCENARIO_FLEET_MAX) throw ctx.err(`fleet devices must be a whole number from 1 to ${SCENARIO_FLEET_MAX}`, e.value);
          fleet.devices = v;
          break;
        }
        case 'name-prefix': {
          const v = asString(ctx, e.value, 'name-prefix');
          if (!/^[A-Za-z0-9_.-]{1,32}$/.test(v)) throw ctx.err("fleet name-prefix: 1 to 32 letters, digits, '_', '-' or '.'", e.value);
          fleet.prefix = v;
          break;
        }
        case 'stagger':
          fleet.staggerMs = asDuration(ctx, e.value, 'stagger');
          break;
        case 'scripts': {
          const d = path.resolve(dir, asString(ctx, e.value, 'scripts'));
          if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) throw ctx.err(`fleet script folder not found: ${d}`, e.value);
          fleet.scriptsDir = d;
          break;
        }
        default:
          throw ctx.err(`fleet: unknown key '${e.key}' (known: ${FLEET_KEYS.join(', ')})`, e.keyNode);
      }
    }
    if (fleet.devices === 0) throw ctx.err('fleet needs devices: N', fleetE.value);
    ctx.hasFleet = true;
  }
  const stepsE = get('steps');
  if (!stepsE || !isSeq(stepsE.value) || stepsE.value.items.length === 0) throw ctx.err("the scenario needs 'steps:', a non-empty list", stepsE?.value ?? root);
  const steps = stepsE.value.items.map((n, i) => parseStep(ctx, n as Node, i + 1));
  const nameE = get('name');
  return {
    file: abs,
    name: nameE ? asString(ctx, nameE.value, 'name') : path.basename(abs).replace(/\.ya?ml$/i, ''),
    scriptsDir,
    profile,
    options,
    steps,
    ...(fleet ? { fleet } : {}),
  };
}

export function loadScenario(file: string): Scenario {
  let src: string;
  try {
    src = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError(`cannot read: ${(e as Error).message}`, path.resolve(file));
  }
  return parseScenario(src, file);
}
