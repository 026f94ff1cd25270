/**
 * Engine factory: `lua53` (default: Lua 5.3.6, our wasm build), `wasmoon` (Lua 5.4 + a 5.3
 * prelude) or `fengari` (Lua 5.3 in JS); the last two stay for differential runs.
 *
 * The engines are a lazy registry: an adapter module (and its Lua implementation) is loaded the
 * first time that engine is created, never at import. fengari's adapter patches fengari's
 * modules when it loads, and a wasmoon run has no need to pay for that (or to carry the patched
 * modules); `loadedEngines()` tells which adapters this process has loaded.
 */
import type { LuaEngine } from './types';
import type { Lua53Engine } from './lua53';
import type { WasmoonEngine } from './wasmoon';
import type { FengariEngine } from './fengari';

export type EngineName = 'lua53' | 'wasmoon' | 'fengari';
export const ENGINE_NAMES: EngineName[] = ['lua53', 'wasmoon', 'fengari'];
/** The engine used when none is named. */
export const DEFAULT_ENGINE: EngineName = 'lua53';

interface EngineModules {
  lua53: typeof Lua53Engine;
  wasmoon: typeof WasmoonEngine;
  fengari: typeof FengariEngine;
}
const loaders: { [K in EngineName]: () => EngineModules[K] } = {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when chosen
  lua53: () => (require('./lua53') as typeof import('./lua53')).Lua53Engine,
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when chosen
  wasmoon: () => (require('./wasmoon') as typeof import('./wasmoon')).WasmoonEngine,
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when chosen
  fengari: () => (require('./fengari') as typeof import('./fengari')).FengariEngine,
};
const loaded = new Map<EngineName, unknown>();

function engineClass<K extends EngineName>(name: K): EngineModules[K] {
  let c = loaded.get(name) as EngineModules[K] | undefined;
  if (!c) {
    c = loaders[name]();
    loaded.set(name, c);
  }
  return c;
}

/** The engines whose adapter modules this process has loaded so far (in load order). */
export function loadedEngines(): EngineName[] {
  return [...loaded.keys()];
}

/** One shared instance per wasm engine; a broken (trapped) one is dropped. */
interface Shared {
  p?: Promise<LuaEngine>;
  ready?: LuaEngine;
}
const shared: { [K in 'lua53' | 'wasmoon']: Shared } = { lua53: {}, wasmoon: {} };

/**
 * Create (or share) an engine. One wasm instance (lua53 or wasmoon) serves every device in the
 * process (lua-engine.md §8); each device still gets its own lua_State (on lua53 with its own
 * allocator budget). A shared instance that trapped (`broken`) is dropped: the next caller gets
 * a fresh one.
 */
export function createEngine(name: EngineName = DEFAULT_ENGINE, opts: { isolated?: boolean } = {}): Promise<LuaEngine> {
  if (!ENGINE_NAMES.includes(name)) return Promise.reject(new Error(`unknown engine '${name}' (use ${ENGINE_NAMES.join(', ')})`));
  let cls: EngineModules[EngineName];
  try {
    cls = engineClass(name);
  } catch (e) {
    return Promise.reject(e);
  }
  if (name === 'fengari') return (cls as typeof FengariEngine).create();
  const make = () => (cls as typeof Lua53Engine | typeof WasmoonEngine).create() as Promise<LuaEngine>;
  if (opts.isolated) return make();
  const s = shared[name];
  if (s.ready?.broken) {
    s.p = undefined;
    s.ready = undefined;
  }
  if (!s.p) {
    const p = make();
    s.p = p;
    p.then(
      (e) => {
        if (s.p === p) s.ready = e;
      },
      () => {
        if (s.p === p) s.p = undefined;
      },
    );
  }
  return s.p;
}

export * from './types';
