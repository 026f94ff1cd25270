/**
 * API coverage (`luatos run --coverage`): which LuatOS functions the scripts called, and whether
 * each is implemented, simulated (backed by a model of the hardware or network rather than the
 * real thing) or missing (looked up on a module table that does not have it).
 */
export type ApiStatus = 'implemented' | 'simulated' | 'missing';

/**
 * What the report knows of the API it counts. The binding side provides it (luatos-api/catalog.ts,
 * handed over by runtime/boards/device.ts createDevice), so the core names no LuatOS module.
 */
export interface ApiCatalog {
  /** the runtime's own helpers: calls to them are not counted */
  readonly internal: ReadonlySet<string>;
  /** functions that exist but do not do their job here: reported as missing */
  readonly stubbed: ReadonlySet<string>;
  /** modules whose functions act on simulated hardware or networks: reported as simulated */
  readonly simulatedModules: ReadonlySet<string>;
}

/** No catalog: every function called counts as implemented. */
export const EMPTY_API_CATALOG: ApiCatalog = Object.freeze({ internal: new Set<string>(), stubbed: new Set<string>(), simulatedModules: new Set<string>() });

/**
 * Metamethods are not counted: `__gc` of a zbuff, rtmp context or file is Lua's garbage
 * collector calling us, not the script calling an API function.
 */
const METAMETHOD = /(^|\.)__[a-z]+$/;

export class ApiCoverage {
  constructor(readonly catalog: ApiCatalog = EMPTY_API_CATALOG) {}

  readonly calls = new Map<string, number>();
  readonly missing = new Map<string, number>();
  /**
   * > 0 while `log.*` calls the global `print` to write its line: that print is part of the log
   * call, not one of the script's (luatos-api/log.ts raises and lowers it around the call).
   */
  printDepth = 0;

  record(fname: string): void {
    if (this.catalog.internal.has(fname) || METAMETHOD.test(fname)) return;
    if (fname === 'print' && this.printDepth > 0) return;
    this.calls.set(fname, (this.calls.get(fname) ?? 0) + 1);
  }

  recordMissing(fname: string): void {
    this.missing.set(fname, (this.missing.get(fname) ?? 0) + 1);
  }

  status(fname: string): ApiStatus {
    if (this.missing.has(fname) && !this.calls.has(fname)) return 'missing';
    if (this.catalog.stubbed.has(fname)) return 'missing';
    const mod = fname.split('.')[0];
    return this.catalog.simulatedModules.has(mod) ? 'simulated' : 'implemented';
  }

  rows(): { name: string; calls: number; status: ApiStatus }[] {
    const names = new Set([...this.calls.keys(), ...this.missing.keys()]);
    return [...names].sort().map((name) => ({ name, calls: this.calls.get(name) ?? this.missing.get(name) ?? 0, status: this.status(name) }));
  }

  report(): string {
    const rows = this.rows();
    const w = Math.max(8, ...rows.map((r) => r.name.length));
    const lines = [`API coverage: ${rows.length} functions used`, `${'function'.padEnd(w)}  ${'calls'.padStart(7)}  status`];
    for (const r of rows) lines.push(`${r.name.padEnd(w)}  ${String(r.calls).padStart(7)}  ${r.status}`);
    const n = (s: ApiStatus) => rows.filter((r) => r.status === s).length;
    lines.push(`implemented ${n('implemented')}, simulated ${n('simulated')}, missing ${n('missing')}`);
    return lines.join('\n') + '\n';
  }
}
