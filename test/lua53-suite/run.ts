/**
 * The official Lua 5.3 test suite's portable files (vendored here, see README.md), run inside the
 * runtime (a Device booting a driver main.lua on the engine under test) and with native
 * `lua5.3`, and the outcomes compared: pass/fail per file, the first error text, the file's
 * return value.
 *
 * Used by test/engine/lua53-suite.test.ts and as a script:
 *
 *   node dist/test/lua53-suite/run.js [--engine wasmoon,fengari] [--files strings,math] [--sites [--verbose]]
 *
 * `--sites` also runs every file in "soft assert" mode (a failing `assert` is recorded and the
 * file goes on) and counts the assertion sites that differ from native: the number of
 * deviations a script can meet, not just the first one per file.
 *
 * Both sides run the same driver text (DRIVER below) and the same file text: the skips
 * (SKIPS) blank lines on both sides, so line numbers and error positions stay the original's.
 * Written for this project (no code of the suite's own all.lua is used); the suite files are
 * data.
 */
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENGINE_NAMES, EngineName } from '../../runtime/core/engine';
import { runLua } from '../helpers/run-lua';
import { removeTempDir, tempDir } from '../helpers/tmp';

// path: the vendored suite files (test/lua53-suite/ in the source tree; this file runs from dist/test/lua53-suite/)
export const SUITE_DIR = path.resolve(__dirname, '..', '..', '..', 'test', 'lua53-suite');

/**
 * The engines whose results must equal native lua5.3 (test/engine/lua53-suite.test.ts fails
 * otherwise); the other engines only print their table.
 * MERGE (issue 19): set to ['lua53'] once the lua53 engine is registered.
 */
export const ASSERTED_ENGINES: readonly EngineName[] = ['lua53'];

/** The issue's portable files, in the order all.lua runs them. */
export const SUITE_FILES = [
  'gc', 'calls', 'strings', 'literals', 'tpack', 'locals', 'constructs', 'nextvar', 'pm', 'utf8',
  'events', 'vararg', 'closure', 'coroutine', 'goto', 'errors', 'math', 'sort', 'bitwise',
] as const;
export type SuiteFile = (typeof SUITE_FILES)[number];

/** sha256 of the vendored files (lua/tests at tag v5-3-4, see README.md): a changed file fails the test. */
export const SUITE_SHA256: Record<SuiteFile, string> = {
  bitwise: 'bdbe68344a13d14151087ffb7721a601c9038cffd7617d4c7f345356c41cc8bb',
  calls: 'd83ef319de20fc81315d3d403ba89dca443897416aeeee937e59d9a89458dc0b',
  closure: 'b16c66a056b69291f7a2cd27765495aa9434ce188461fe0a15a7bfd4c52813b0',
  constructs: 'befef928a74b87a6834b286c9d7645b4c79d8770bdfc26d9511e0078b3511887',
  coroutine: '5a551a561f918dcd60e37c1542d9962bf79b04ebbd840b46073572a2b71ec5bd',
  errors: '2f85f41f69bc00194945c73b07e48165606801e1a82e218f09cfc6051ddc831f',
  events: '2514ce9be5bbf3d0dbca187a95f4ad1c012092406200d1a63c5e815d13847219',
  gc: '4e0ef19b5f2662c04b4e9ac516f6d663391db7203a40a4d2459a724440201133',
  goto: '98351cb77a6f2d14d84fb0345b99508874e66db0b5a615c26dfecc892a013985',
  literals: '179576abdfecc81f85e0c20c4d089e04390d84c9c4c7df63aba7950c843a432b',
  locals: '904344d299d37fc3b503fcfe5ff490471f26f8cfffc228f359632b4c5cc5998a',
  math: '525408b82876691b04968334636abac2579056b133834a3a7c722ac8039cfdde',
  nextvar: '319cb84bd1aeb98de8c34ea6411866e7de07c7513b8f795107e3df58e50dc0b6',
  pm: '16fc692f976bbc0a9c35c8a905f21834befacd810f2a7d5eb907175c4046eecf',
  sort: '5a1c9cf2afc4322f294ae94cfa456cd383e7f3a58263c085b55629311e512774',
  strings: 'e2aaedbd84f77d6165275cad97c1019495b3f8ccf240d55ecd2416dc2454f392',
  tpack: '12cf7a2601185cfdca51e6ddeb1a14aa88c23cbc0976a873e40e2fcf8c638ae5',
  utf8: 'aaf3a5441f2037080e08b4e6ce94b187883e10d3366d4cc14d377b86575ac361',
  vararg: 'a751045cc2c0aa8b96207ef7cf23e91a019d2bf9559373865330ce7b83d9b29b',
};

/**
 * Parts of a file not run (on either side): lines `from`..`to` become empty lines. `first` and
 * `last` are the exact texts of those lines (a guard: suiteSource throws when they differ).
 * Only what the runtime leaves out on purpose is skipped; everything else counts.
 */
export interface Skip {
  file: SuiteFile;
  from: number;
  to: number;
  first: string;
  last: string;
  reason: string;
}
const NO_BINARY = 'binary chunks are refused by design (hardening issue: string.dump output is not loaded)';
const NO_STDIO =
  "the device's io has no io.input/io.write/io.stdin (luatos-api/base.ts removes the standard streams; the firmware's io works on its file system only)";
const NO_SETLOCALE =
  "the Air8101 has no os.setlocale (LuatOS's loslib.c builds it only into the desktop simulator builds, luatos-api-2.md; luatos-api/base.ts removes it), so the decimal-point block cannot even ask; natively it finds no pt_BR locale and skips itself";
export const SKIPS: readonly Skip[] = [
  { file: 'calls', from: 256, to: 258, first: '-- another small bug (in 5.2.1)', last: 'assert(type(f) == "function" and f() == 1)', reason: NO_BINARY },
  { file: 'calls', from: 261, to: 265, first: 'x = string.dump(load("x = 1; return x"))', last: 'cannotload("attempt to load a binary chunk", load(x, nil, "t"))', reason: NO_BINARY },
  { file: 'calls', from: 277, to: 287, first: '-- load when _ENV is not first upvalue', last: 'assert(x() == 123)', reason: NO_BINARY },
  { file: 'calls', from: 307, to: 346, first: '-- test for dump/undump with upvalues', last: 'end', reason: NO_BINARY },
  { file: 'calls', from: 364, to: 398, first: 'print("testing binary chunks")', last: 'end', reason: NO_BINARY },
  { file: 'errors', from: 149, to: 149, first: '  checkmessage("math.sin(io.input())", "(number expected, got FILE*)")', last: '  checkmessage("math.sin(io.input())", "(number expected, got FILE*)")', reason: NO_STDIO },
  { file: 'errors', from: 152, to: 152, first: '  checkmessage("io.input(XX)", "(FILE* expected, got My Type)")', last: '  checkmessage("io.input(XX)", "(FILE* expected, got My Type)")', reason: NO_STDIO },
  { file: 'errors', from: 154, to: 154, first: '  checkmessage("return ~io.stdin", "on a FILE* value")', last: '  checkmessage("return ~io.stdin", "on a FILE* value")', reason: NO_STDIO },
  { file: 'errors', from: 157, to: 157, first: '  checkmessage("return XX < io.stdin", "My Type with FILE*")', last: '  checkmessage("return XX < io.stdin", "My Type with FILE*")', reason: NO_STDIO },
  { file: 'errors', from: 162, to: 162, first: 'checkmessage("(io.write or print){}", "io.write")', last: 'checkmessage("(io.write or print){}", "io.write")', reason: NO_STDIO },
  { file: 'errors', from: 165, to: 178, first: '-- errors in functions without debug info', last: 'end', reason: NO_BINARY },
  { file: 'errors', from: 228, to: 228, first: 'checkmessage("getmetatable(io.stdin).__gc()", "no value")', last: 'checkmessage("getmetatable(io.stdin).__gc()", "no value")', reason: NO_STDIO },
  {
    file: 'literals',
    from: 264,
    to: 288,
    first: '-- testing decimal point locale',
    last: 'end',
    reason: NO_SETLOCALE,
  },
  {
    file: 'strings',
    from: 142,
    to: 149,
    first: 'if tostring(0.0) == "0.0" then   -- "standard" coercion float->string',
    last: 'end',
    reason: "the device's tostring (runtime/lua/boot.lua: floats as %.14g without '.0', as LuatOS prints them) differs from stock 5.3 on purpose; `..` keeps the engine's conversion, so neither branch holds",
  },
];

/** The file's text with its skips blanked (line count unchanged). */
export function suiteSource(file: SuiteFile): string {
  const buf = fs.readFileSync(path.join(SUITE_DIR, `${file}.lua`));
  const sha = crypto.createHash('sha256').update(buf).digest('hex');
  if (sha !== SUITE_SHA256[file]) throw new Error(`${file}.lua: sha256 ${sha} is not the vendored file's (${SUITE_SHA256[file]})`);
  const lines = buf.toString('latin1').split('\n');
  for (const s of SKIPS) {
    if (s.file !== file) continue;
    if (lines[s.from - 1] !== s.first || lines[s.to - 1] !== s.last) throw new Error(`${file}.lua: skip ${s.from}-${s.to} does not match the file`);
    for (let i = s.from - 1; i < s.to; i++) lines[i] = '';
  }
  return lines.join('\n');
}

/** What the driver sets before running a file, besides the skips (README.md lists them). */
export const DRIVER_SETTINGS = [
  '_port = true, _soft = true (the manual: portable, short runs)',
  'package.loaded.bit32 = the global bit32 when require would not find it (the runtime registers bit32 as a global only)',
];

/**
 * The driver, the same text natively and as the device's main.lua: loads the file by path,
 * runs it under xpcall and prints `SUITE-*` lines. In soft mode a failing `assert` records its
 * site (the line, and the calling line in the same file) and returns its arguments.
 */
export function driver(file: string, loadPath: string, soft: boolean): string {
  return `-- lua53-suite driver (luatos-pc)
_port = true
_soft = true
if package.loaded.bit32 == nil and rawget(_G, "bit32") ~= nil then package.loaded.bit32 = rawget(_G, "bit32") end
local FILE, PATH, SOFT = ${JSON.stringify(file)}, ${JSON.stringify(loadPath)}, ${soft ? 'true' : 'false'}
local debug = require "debug"
local print, tostring, type, concat = print, tostring, type, table.concat
local sites, seen = {}, {}
if SOFT then
  local rawassert, getinfo, select = assert, debug.getinfo, select
  assert = function (...)
    if select("#", ...) == 0 or (...) then return rawassert(...) end
    local where = {}
    for lvl = 2, 20 do
      local i = getinfo(lvl, "Sl")
      if not i or #where == 2 then break end
      if i.short_src == FILE and i.currentline > 0 then where[#where + 1] = i.currentline end
    end
    local key = concat(where, "<")
    if not seen[key] then seen[key] = true; sites[#sites + 1] = key end
    return ...
  end
end
local f, lerr = loadfile(PATH)
if not f then
  print("SUITE-RESULT load")
  print("SUITE-ERROR " .. tostring(lerr))
else
  local trace
  local ok, res = xpcall(f, function (m)
    trace = debug.traceback(type(m) == "string" and m or type(m), 2)
    return m
  end)
  print("SUITE-SITES " .. concat(sites, " "))
  if trace then print("SUITE-TRACE " .. trace:gsub("\\n%s*", " | ")) end
  if ok then
    local v = ""
    if type(res) == "number" or type(res) == "string" or type(res) == "boolean" then v = " " .. tostring(res) end
    print("SUITE-RESULT pass " .. type(res) .. v)
  else
    print("SUITE-RESULT fail")
    print("SUITE-ERROR " .. (type(res) == "string" and res or ("(error object: " .. type(res) .. ")")))
  end
end
print("SUITE-DONE")
`;
}

export interface Outcome {
  /** timeout: the watchdog (runtime) or the wall-time bound ended it; none: no result line */
  status: 'pass' | 'fail' | 'load' | 'timeout' | 'none';
  /** the first error text (fail/load), the stop reason (timeout/none) */
  error: string;
  /** pass: the type (and value) the file returned */
  ret: string;
  /** soft mode: the failing assert sites, `line` or `line<callerline` */
  sites: string[];
  /** fail: the traceback (one line, ` | ` between frames); not compared */
  trace: string;
  ms: number;
}

export interface RunOptions {
  /** soft assert mode (see the header) */
  soft?: boolean;
  /** the runtime's watchdog for one run of Lua without yielding (profile.runawayMs) */
  runawayMs?: number;
  /** wall-time bound for one file (both sides) */
  wallMs?: number;
  /**
   * The Lua heap (profile.memory.lua, the lua53 engine's allocator budget) for this run; default:
   * the file's entry in HEAP_BYTES, else the device's (the Air8101's 2 MB). Native has no bound.
   */
  heapBytes?: number;
}
const DEFAULT_RUNAWAY_MS = 20_000;

/**
 * Files that need a larger Lua heap than the device's (profile.memory.lua: 2 097 144 bytes on the
 * Air8101, enforced by lua53's allocator). Only where a file's own test needs more live memory
 * than the device has, with the reason; the device limit itself is tested in
 * test/core/lua53.test.ts, and test/engine/lua53-suite.test.ts checks that each entry is still
 * needed (the file does not finish with the device's heap).
 */
export const HEAP_BYTES: Readonly<Partial<Record<SuiteFile, { bytes: number; reason: string }>>> = {
  gc: {
    bytes: 8 << 20,
    reason:
      "gc.lua:509-518 stops the collector and allocates until collectgarbage'count' doubles, starting from the " +
      "~1.1 MB the 1000 live 'self-referenced threads' (gc.lua:460-476) still hold (native: 1.15 MB); 2 x 1.1 MB is " +
      "over the device's 2 MB, so with the device's heap every allocation failure runs Lua's emergency collection, " +
      'the count never doubles and the loop only ends at the watchdog (on the device it would hang the same way)',
  },
};

const DEFAULT_WALL_MS = 60_000;

function parseOutput(lines: string[], ms: number): Outcome {
  const out: Outcome = { status: 'none', error: '', ret: '', sites: [], trace: '', ms };
  for (const l of lines) {
    if (l.startsWith('SUITE-SITES')) out.sites = l.slice(12).split(' ').filter(Boolean);
    else if (l.startsWith('SUITE-RESULT ')) {
      const [status, ...rest] = l.slice(13).split(' ');
      out.status = status as Outcome['status'];
      out.ret = rest.join(' ');
    } else if (l.startsWith('SUITE-ERROR ')) out.error = l.slice(12);
    else if (l.startsWith('SUITE-TRACE ')) out.trace = l.slice(12);
  }
  return out;
}

/** The native interpreter, or null when it is not installed. */
export function nativeLua(): string | null {
  for (const exe of ['/usr/bin/lua5.3', '/usr/local/bin/lua5.3']) {
    if (!fs.existsSync(exe)) continue;
    const p = spawnSync(exe, ['-v'], { encoding: 'utf8', timeout: 5000 });
    if (p.status === 0 && /Lua 5\.3/.test(p.stdout + p.stderr)) return exe;
  }
  return null;
}

/** Run one file (or a given text under a file name) with native lua5.3 in a temp folder. */
export function runNative(exe: string, file: string, opts: RunOptions = {}, text?: string): Outcome {
  const dir = tempDir('luatos-lua53suite-');
  try {
    fs.writeFileSync(path.join(dir, `${file}.lua`), text ?? suiteSource(file as SuiteFile), 'latin1');
    fs.writeFileSync(path.join(dir, 'main.lua'), driver(`${file}.lua`, `${file}.lua`, !!opts.soft));
    const t0 = performance.now();
    const p = spawnSync(exe, ['main.lua'], { cwd: dir, encoding: 'latin1', timeout: opts.wallMs ?? DEFAULT_WALL_MS, maxBuffer: 64 << 20, killSignal: 'SIGKILL' });
    const ms = performance.now() - t0;
    const out = parseOutput((p.stdout ?? '').split('\n'), ms);
    if (p.error && (p.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return { ...out, status: 'timeout', error: `wall time over ${opts.wallMs ?? DEFAULT_WALL_MS} ms` };
    if (out.status === 'none') out.error = `lua5.3 exited with ${p.status ?? p.signal}: ${(p.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`;
    return out;
  } finally {
    removeTempDir(dir);
  }
}

/** Run one file (or a given text) inside the runtime: a Device on `engine` booting the driver as main.lua. */
export async function runInRuntime(engine: EngineName, file: string, opts: RunOptions = {}, text?: string): Promise<Outcome> {
  const src = Buffer.from(text ?? suiteSource(file as SuiteFile), 'latin1');
  const wallMs = opts.wallMs ?? DEFAULT_WALL_MS;
  const heap = opts.heapBytes ?? HEAP_BYTES[file as SuiteFile]?.bytes;
  const profile: Record<string, unknown> = { runawayMs: opts.runawayMs ?? DEFAULT_RUNAWAY_MS };
  if (heap !== undefined) profile.memory = { lua: heap };
  const t0 = performance.now();
  const r = await runLua(
    { 'main.lua': driver(`${file}.lua`, `/luadb/${file}.lua`, !!opts.soft), [`${file}.lua`]: src },
    { engine, until: 'SUITE-DONE', timeoutMs: wallMs, profile, cleanup: true },
  );
  const ms = performance.now() - t0;
  const out = parseOutput(r.user, ms);
  if (r.timedOut) return { ...out, status: 'timeout', error: `wall time over ${wallMs} ms` };
  if (out.status === 'none' || !r.user.includes('SUITE-DONE')) {
    const exit = r.stop?.exit;
    const status = exit?.kind === 'watchdog' ? 'timeout' : out.status === 'none' ? 'none' : out.status;
    return { ...out, status, error: exit?.message ?? `device stopped: ${r.stop?.kind ?? '?'}` };
  }
  return out;
}

/** Addresses differ from run to run ("table: 0x55d0..."): compare without them. */
function norm(s: string): string {
  return s.replace(/0x[0-9a-fA-F]+/g, '0x?');
}

/** Same outcome as native: status, first error text and return value. */
export function sameOutcome(native: Outcome, ours: Outcome): boolean {
  return native.status === ours.status && norm(native.error) === norm(ours.error) && norm(native.ret) === norm(ours.ret);
}

/**
 * Soft mode: the assert sites that fail here but not natively, and 1 more when the runs end
 * differently. Sites that fail only natively are not counted: the soft assert itself changes
 * what `pcall(assert, false)` tests see, and a run that ended early never reached them.
 */
export function siteDeviations(native: Outcome, ours: Outcome): number {
  const a = new Set(native.sites);
  let n = 0;
  for (const s of new Set(ours.sites)) if (!a.has(s)) n++;
  return n + (sameOutcome(native, ours) ? 0 : 1);
}

export function describe(o: Outcome): string {
  if (o.status === 'pass') return `pass${o.ret ? ` (${o.ret})` : ''}`;
  return `${o.status}: ${o.error.split('\n')[0].slice(0, 140)}`;
}

export interface FileRow {
  file: string;
  native: Outcome | null;
  ours: Outcome;
  same: boolean | null;
  /** soft mode only */
  sites?: number;
  /** soft mode: the sites that fail here only (`+line`), and how the run ended when that differs */
  siteDiff?: string[];
}

/** A printable table of one engine's rows. */
export function formatTable(engine: string, rows: FileRow[]): string {
  const out: string[] = [];
  const soft = rows.some((r) => r.sites !== undefined);
  out.push(`Lua 5.3 suite on ${engine} vs native lua5.3${soft ? ' (sites: assert sites that differ, soft mode)' : ''}`);
  out.push(['file', 'same', ...(soft ? ['sites'] : []), 'native', engine].join('\t'));
  for (const r of rows) {
    out.push([r.file, r.same === null ? '?' : r.same ? 'yes' : 'NO', ...(soft ? [String(r.sites ?? '?')] : []), r.native ? describe(r.native) : '(no lua5.3)', describe(r.ours)].join('\t'));
  }
  const differ = rows.filter((r) => r.same === false).length;
  out.push(`${engine}: ${differ} of ${rows.length} files differ from native${soft ? `; ${rows.reduce((a, r) => a + (r.sites ?? 0), 0)} differing assert sites in all` : ''}`);
  return out.join('\n');
}

/** Run the given files on one engine (and natively); soft mode adds the site counts. */
export async function runEngine(engine: EngineName, files: readonly string[], opts: RunOptions = {}): Promise<FileRow[]> {
  const exe = nativeLua();
  const rows: FileRow[] = [];
  for (const file of files) {
    const native = exe ? runNative(exe, file, { ...opts, soft: false }) : null;
    const ours = await runInRuntime(engine, file, { ...opts, soft: false });
    const row: FileRow = { file, native, ours, same: native ? sameOutcome(native, ours) : null };
    if (opts.soft && exe) {
      const ns = runNative(exe, file, opts);
      const softOurs = await runInRuntime(engine, file, opts);
      row.sites = siteDeviations(ns, softOurs);
      row.siteDiff = softOurs.sites.filter((x) => !ns.sites.includes(x)).map((x) => '+' + x);
      if (!sameOutcome(ns, softOurs)) row.siteDiff.push(`end: ${describe(softOurs)}`);
    }
    rows.push(row);
  }
  return rows;
}

async function main(): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const engines = (arg('--engine')?.split(',') ?? ENGINE_NAMES) as EngineName[];
  for (const e of engines) {
    if (!ENGINE_NAMES.includes(e)) {
      console.error(`unknown engine '${e}' (known: ${ENGINE_NAMES.join(', ')})`);
      process.exit(2);
    }
  }
  const files = arg('--files')?.split(',') ?? [...SUITE_FILES];
  for (const f of files) {
    if (!(SUITE_FILES as readonly string[]).includes(f)) {
      console.error(`unknown suite file '${f}' (known: ${SUITE_FILES.join(', ')})`);
      process.exit(2);
    }
  }
  const exe = nativeLua();
  if (!exe) console.log('native lua5.3 not found (/usr/bin/lua5.3): no comparison, runtime results only');
  for (const e of engines) {
    const rows = await runEngine(e, files, { soft: process.argv.includes('--sites') });
    console.log(formatTable(e, rows) + '\n');
    if (process.argv.includes('--verbose')) {
      for (const r of rows) {
        if (r.siteDiff?.length) console.log(`${r.file}: ${r.siteDiff.join(' ')}`);
        if (r.same === false && r.ours.trace) console.log(`${r.file} traceback: ${r.ours.trace.split(' | ').filter((x) => x.startsWith(`${r.file}.lua:`)).join(' | ')}`);
      }
    }
  }
  process.exit(0);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
