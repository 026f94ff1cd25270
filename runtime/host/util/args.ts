/**
 * The one command-line reader of `luatos` (`run`, `test`, `logs`, `boards`, `cameras`), on top of
 * Node's `util.parseArgs`. A command declares its options as a spec, one line an option:
 *
 *   const SPEC = {
 *     engine: value(oneOf(ENGINE_NAMES, `--engine must be one of ${ENGINE_NAMES.join(', ')}`)),
 *     timeout: value(number('--timeout needs a positive number of seconds', { above: 0 })),
 *     lib: list(),                                   // repeatable: --lib a --lib b → ['a', 'b']
 *     fault: list(parseFault, { limit: 256 }),       // each value parsed, at most 256
 *     web: optional(/^\d+$/, number('--web takes an optional port number', { integer: true, min: 0, max: 65535 }), 0),
 *     tag: list(undefined, { short: 't' }),          // -t TAG as well as --tag TAG
 *     'no-color': flag({ into: 'color', value: 'never' as const }),   // writes values.color
 *     help: help(),                                  // --help and -h; reading stops there
 *   };
 *   const { values, positionals } = readArgs(args, SPEC);   // values.engine: EngineName | undefined
 *
 * Every mistake is the one {@link UsageError} (the command prints `luatos <cmd>: <message>` and
 * exits 2), with the messages the commands have always given: `unknown option ARG`,
 * `--x needs a value`, and each option's own message for a bad value. Checks run in the order of
 * the arguments, so the first mistake is the one reported. `values` is built without a prototype
 * (`Object.create(null)`) and option names are looked up in a Map, so `--__proto__` or
 * `--constructor` are unknown options like any other.
 *
 * How parseArgs is used: it splits the arguments into tokens (`--x v`, `--x=v`, `-x v`, `-xv`,
 * groups of short flags `-if`, the `--` terminator, `-` as a positional), with `strict: false`
 * and `tokens: true`; the checks that `strict: true` would make are made on those tokens here.
 * `strict: true` itself is not used because (1) it rejects a separate value that starts with a
 * dash (`--expect -5`, `luatos logs --grep --verbose`, a negative number) which the commands have
 * always accepted, (2) it cannot express an optional value (`--web [PORT]`) or a value of two
 * words (`logs --since 2026-11-24 10:00`), and (3) its messages are not ours.
 *
 * Forms as before (kept on purpose):
 * - a separate value may start with one dash (`--timeout -1` reaches --timeout's own check); one
 *   that looks like a long option (`--profile --engine`) is "--profile needs a value", unless the
 *   command reads with `dashValues` (`luatos logs -g --verbose` greps for "--verbose"); a lone
 *   `--` right after an option that needs a value is that value;
 * - a non-repeatable option given twice: the last one counts (each is checked);
 * - with `dashPositionals` (`luatos run`), an argument starting with '-' that is not made of known
 *   short options is a positional (a script folder named `-x`), as it always was there.
 *
 * Differences from the hand-written reader this replaces (runtime/host/cli/args.ts ArgReader):
 * - `--` ends the options in every command (before: only `luatos logs`; `run`/`test` called it
 *   an unknown option); `luatos test -` is now the target `-` (before: unknown option);
 * - short flags may be grouped (`logs -if` = `-i -f`, `test -vh`) and a short option may carry
 *   its value (`logs -gERROR`, `-l=W` gives "=W" as getopt does); before, both were unknown;
 * - `--help` / `-h` ends the reading in every command, so `logs --help --bogus` prints the help
 *   (before: `run` stopped at --help, `logs` and `test` went on and reported --bogus);
 * - a flag written with a value (`--coverage=1`, `--help=x`) is "--coverage takes no value";
 *   before, the value was silently ignored (so `--coverage=no` turned coverage on).
 */
import { parseArgs } from 'node:util';
import { UsageError } from './usage-error';

export { UsageError };

/** Turns one value into what the command keeps; `n` = how many values this option had before. */
export type Parse<T> = (value: string, n: number) => T;

/** One option of a spec. Build it with {@link flag}, {@link value}, {@link list}, {@link optional}, {@link help}. */
export interface Option<T, M extends boolean = boolean> {
  /** none: a flag; value: needs one; optional: takes one when written `--x=V` or the next argument matches `optionalTest` */
  readonly takes: 'none' | 'value' | 'optional';
  readonly multiple: M;
  readonly parse: Parse<T>;
  /** one-letter form (`-t`) */
  readonly short?: string;
  /** other long names (`--colour` of `--color`) */
  readonly aliases?: readonly string[];
  /** the key in `values` (default: the option's name); several options may write one key */
  readonly into?: string;
  /** repeatable options: at most this many (`at most N --x options`) */
  readonly limit?: number;
  readonly optionalTest?: RegExp;
  /** the value of an `optional` option written alone */
  readonly absent?: T;
  /** `--since 2026-11-24 10:00`: the next argument continues the value when this holds */
  readonly join?: (value: string, next: string) => boolean;
  /** reading ends after this option (`--help`) */
  readonly stop?: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Spec = Readonly<Record<string, Option<any>>>;

type KeyOf<N extends string, O> = O extends { readonly into: infer K extends string } ? K : N;
type ValueOf<O> = O extends { readonly parse: Parse<infer T>; readonly multiple: infer M } ? (M extends true ? T[] : T | undefined) : never;
/** What {@link readArgs} gives for a spec: one key an option (its `into` or its name). */
export type Values<S extends Spec> = { -readonly [N in keyof S & string as KeyOf<N, S[N]>]: ValueOf<S[N]> };

/** Naming of an option: short form, other long names, the key it writes. */
export interface Names<K extends string = string> {
  short?: string;
  aliases?: readonly string[];
  into?: K;
}
type Into<K extends string> = [K] extends [never] ? unknown : { readonly into: K };

const asText: Parse<string> = (v) => v;

/** `--x`: true, or `value`. */
export function flag<const T = true, K extends string = never>(o: Names<K> & { value?: T } = {}): Option<T, false> & Into<K> {
  const v = (o.value === undefined ? true : o.value) as T;
  return { ...o, takes: 'none', multiple: false, parse: () => v } as Option<T, false> & Into<K>;
}

/** `--x V` or `--x=V`: one value (the last counts when given twice). */
export function value<T, K extends string = never>(parse: Parse<T>, o?: Names<K> & { join?: Option<T>['join'] }): Option<T, false> & Into<K>;
export function value<K extends string = never>(o?: Names<K> & { join?: Option<string>['join'] }): Option<string, false> & Into<K>;
export function value(a?: unknown, b?: unknown): Option<unknown, false> {
  const [parse, o] = typeof a === 'function' ? [a as Parse<unknown>, (b ?? {}) as Names] : [asText, (a ?? {}) as Names];
  return { ...o, takes: 'value', multiple: false, parse };
}

/** A repeatable `--x V`: every value, in order (an empty list when absent). */
export function list<T = string, K extends string = never>(parse?: Parse<T>, o: Names<K> & { limit?: number } = {}): Option<T, true> & Into<K> {
  return { ...o, takes: 'value', multiple: true, parse: parse ?? (asText as unknown as Parse<T>) } as Option<T, true> & Into<K>;
}

/**
 * `--x`, `--x V` or `--x=V`: a value is optional. A separate next argument is taken as the value
 * only when it matches `test` (`--web 8080` vs `--web demo/`); alone, the option gives `absent`.
 */
export function optional<T, K extends string = never>(test: RegExp, parse: Parse<T>, absent: T, o: Names<K> = {}): Option<T, false> & Into<K> {
  return { ...o, takes: 'optional', multiple: false, parse, optionalTest: test, absent } as Option<T, false> & Into<K>;
}

/** `--help` and `-h`: values.help is true and nothing after it is read. */
export function help(): Option<true, false> {
  return { takes: 'none', multiple: false, parse: () => true, short: 'h', stop: true };
}

/** A value out of `allowed` (after `normalise`), else the usage error `message`. */
export function oneOf<const T extends string>(allowed: readonly T[], message: string, normalise: (v: string) => string = (v) => v): Parse<T> {
  return (raw) => {
    const v = normalise(raw);
    if (!(allowed as readonly string[]).includes(v)) throw new UsageError(message);
    return v as T;
  };
}

/** Range of {@link number}: bounds included, `above` excluded. */
export interface NumberRange {
  min?: number;
  max?: number;
  above?: number;
  integer?: boolean;
}

/**
 * A finite number in `range`, else the usage error `message`. The text is read by `Number()`
 * as it always was here (so `0x10` is 16 and an empty `--x=` is 0).
 */
export function number(message: string, range: NumberRange = {}): Parse<number> {
  return (raw) => {
    const n = Number(raw);
    const ok =
      Number.isFinite(n) &&
      (!range.integer || Number.isInteger(n)) &&
      (range.min === undefined || n >= range.min) &&
      (range.max === undefined || n <= range.max) &&
      (range.above === undefined || n > range.above);
    if (!ok) throw new UsageError(message);
    return n;
  };
}

/** How {@link readArgs} reads. */
export interface ReadSettings {
  /** A separate value may look like a long option (`--grep --verbose`). Default false. */
  dashValues?: boolean;
  /** An argument with an unknown short option is a positional, not an error (`luatos run -x/`). */
  dashPositionals?: boolean;
}

export interface ReadResult<V> {
  /** one key an option; repeatable options are always there (maybe empty); no prototype */
  values: V;
  /** the other arguments, in order (all of them after `--`) */
  positionals: string[];
}

interface Entry {
  name: string;
  key: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  opt: Option<any>;
}

type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/** The parseArgs configuration and the name → option table of a spec (checked once per spec). */
function compile(spec: Spec): { config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>; byName: Map<string, Entry> } {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = Object.create(null);
  const byName = new Map<string, Entry>();
  const shorts = new Set<string>();
  for (const name of Object.keys(spec)) {
    const opt = spec[name];
    const entry: Entry = { name, key: opt.into ?? name, opt };
    const type = opt.takes === 'value' ? 'string' : 'boolean';
    for (const n of [name, ...(opt.aliases ?? [])]) {
      if (byName.has(n) || n.startsWith('-') || n.length === 0) throw new Error(`option spec: bad or repeated name '${n}'`);
      byName.set(n, entry);
      config[n] = { type, multiple: opt.multiple };
    }
    if (opt.short !== undefined) {
      if (opt.short.length !== 1 || shorts.has(opt.short) || opt.short === '-') throw new Error(`option spec: bad or repeated short name '${opt.short}'`);
      shorts.add(opt.short);
      config[name].short = opt.short;
    }
  }
  return { config, byName };
}

const compiled = new WeakMap<Spec, ReturnType<typeof compile>>();

/**
 * Read `args` by `spec`. Throws {@link UsageError} for an unknown option, a missing value, a value
 * on a flag, too many of a repeatable option, or a value its option's parse rejects.
 */
export function readArgs<S extends Spec>(args: readonly string[], spec: S, settings: ReadSettings = {}): ReadResult<Values<S>> {
  let c = compiled.get(spec);
  if (!c) compiled.set(spec, (c = compile(spec)));
  const { tokens } = parseArgs({ args: [...args], options: c.config, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, unknown> = Object.create(null);
  const counts = new Map<Entry, number>();
  for (const e of c.byName.values()) if (e.opt.multiple) values[e.key] = [];
  const positionals: string[] = [];

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    if (t.kind === 'option-terminator') continue;
    // short options: the whole argument (`-if`) is read as options only when each letter is known
    if (!t.rawName.startsWith('--')) {
      let end = i;
      while (end + 1 < tokens.length && tokens[end + 1].index === t.index && tokens[end + 1].kind === 'option') end++;
      const group = tokens.slice(i, end + 1) as Extract<Token, { kind: 'option' }>[];
      const unknown = group.find((g) => !c.byName.has(g.name));
      if (unknown) {
        if (!settings.dashPositionals) throw new UsageError(`unknown option ${args[t.index]}`);
        positionals.push(args[t.index]);
        // a known letter of the group may have taken the next argument as its value: it is a positional too
        const took = group.find((g) => g.value !== undefined && g.inlineValue === false);
        if (took) positionals.push(took.value as string);
        i = end;
        continue;
      }
    }
    const entry = c.byName.get(t.name);
    if (!entry) throw new UsageError(`unknown option ${args[t.index]}`);
    const opt = entry.opt;
    let v: string | undefined = t.value;
    if (opt.takes === 'none') {
      if (v !== undefined) throw new UsageError(`${t.rawName} takes no value`);
    } else if (opt.takes === 'value') {
      if (v === undefined || (!t.inlineValue && !settings.dashValues && v.startsWith('--') && v.length > 2)) throw new UsageError(`${t.rawName} needs a value`);
      const next = tokens[i + 1];
      if (!t.inlineValue && opt.join && next?.kind === 'positional' && opt.join(v, next.value)) {
        v += ' ' + next.value;
        i++;
      }
    } else if (v === undefined) {
      const next = tokens[i + 1];
      if (next?.kind === 'positional' && opt.optionalTest?.test(next.value)) {
        v = next.value;
        i++;
      }
    }
    const n = counts.get(entry) ?? 0;
    if (opt.multiple && opt.limit !== undefined && n >= opt.limit) throw new UsageError(`at most ${opt.limit} --${entry.name} options`);
    counts.set(entry, n + 1);
    const parsed = opt.takes === 'optional' && v === undefined ? opt.absent : opt.parse(v ?? '', n);
    if (opt.multiple) (values[entry.key] as unknown[]).push(parsed);
    else values[entry.key] = parsed;
    if (opt.stop) break;
  }
  return { values: values as Values<S>, positionals };
}
