/**
 * The web console's Debug panel API (`POST /api/debug`, `luatos run --inspect`): one JSON
 * operation on the same debugger core the DAP server talks to. Sources are served only for the
 * device's own files (the debugger's file list) and up to 4 MiB.
 */
import * as fs from 'node:fs';
import type { DebugChannel } from '../debug/channel';

const MAX_SOURCE = 4 * 1024 * 1024;

/** The panel's operations for `dbg` (null: every operation says the device has no debugger). */
export function debugApi(dbg: DebugChannel | null): (o: Record<string, unknown>) => Promise<unknown> {
  /** the device's own files (paths), from the last `state` */
  let dbgFiles: Set<string> | null = null;
  const filesOf = (st: Awaited<ReturnType<DebugChannel['state']>>): Set<string> => new Set(st.files.map((f) => f.path));
  return async (o) => {
    if (!dbg) throw new Error('the device runs without a debugger (luatos run --inspect)');
    const num = (k: string): number => {
      const v = o[k];
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${k}: a whole number expected`);
      return v;
    };
    const str = (k: string): string => {
      const v = o[k];
      if (typeof v !== 'string') throw new Error(`${k}: a string expected`);
      return v;
    };
    switch (o.op) {
      case 'status':
        return { paused: dbg.paused, stop: dbg.stop };
      case 'state': {
        const st = await dbg.state();
        dbgFiles = filesOf(st);
        return st;
      }
      case 'source': {
        const p = str('path');
        if (!dbgFiles) dbgFiles = filesOf(await dbg.state());
        // only the device's own files
        if (!dbgFiles.has(p)) throw new Error('not a file of the device');
        const st = await fs.promises.stat(p);
        if (st.size > MAX_SOURCE) throw new Error('file too large to show');
        return { text: await fs.promises.readFile(p, 'utf8'), breakpoints: dbg.breakpointsOf(p).map((b) => b.line) };
      }
      case 'threads':
        return dbg.threads();
      case 'stack':
        return dbg.stack(num('thread'));
      case 'scopes':
        return dbg.scopes(num('frame'));
      case 'variables':
        return dbg.variables(num('ref'));
      case 'evaluate':
        return dbg.evaluate(str('expression'), o.frame === undefined ? undefined : num('frame'));
      case 'continue':
        return dbg.continue();
      case 'next':
        return dbg.next(num('thread'));
      case 'stepIn':
        return dbg.stepIn(num('thread'));
      case 'stepOut':
        return dbg.stepOut(num('thread'));
      case 'pause':
        return dbg.pause();
      case 'setBreakpoints': {
        const lines = o.lines;
        if (!Array.isArray(lines) || lines.length > 10000 || !lines.every((l) => Number.isInteger(l) && l > 0)) throw new Error('lines: whole numbers expected');
        const p = str('path');
        const keep = new Map(dbg.breakpointsOf(p).map((b) => [b.line, b]));
        return dbg.setBreakpoints(p, (lines as number[]).map((line) => keep.get(line) ?? { line }));
      }
      default:
        throw new Error('unknown op');
    }
  };
}
