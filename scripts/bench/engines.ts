/**
 * The engines a benchmark runs on: `--engine <name>` (repeatable, one of ENGINE_NAMES) or, when
 * none is given, the caller's default list (the default engine DEFAULT_ENGINE first). An unknown
 * name is an error naming the valid ones.
 */
import { DEFAULT_ENGINE, ENGINE_NAMES, type EngineName } from '../../runtime/core/engine';

export { DEFAULT_ENGINE };

export function engineArgs(argv: readonly string[], defaults: readonly EngineName[] = [DEFAULT_ENGINE]): EngineName[] {
  const picked: EngineName[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '--engine') continue;
    const e = argv[i + 1] as EngineName;
    if (!ENGINE_NAMES.includes(e)) throw new Error(`unknown engine '${argv[i + 1] ?? ''}' (use ${ENGINE_NAMES.join(', ')})`);
    if (!picked.includes(e)) picked.push(e);
  }
  return picked.length ? picked : [...new Set(defaults)];
}
