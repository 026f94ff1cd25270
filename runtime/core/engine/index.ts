/**
 * Engine factory: `wasmoon` (default) or `fengari`.
 *
 * The engines are a lazy registry: an adapter module (and its Lua implementation) is loaded the
 * first time that engine is created, never at import. fengari's adapter patches fengari's
 * modules when it loads, and a wasmoon run has no need to pay for that (or to carry the patched
 * modules); `loadedEngines()` tells which adapters this process has loaded.
 */
import type { LuaEngine } from './types';
import type { WasmoonEngine } from './wasmoon';
import type { FengariEngine } from './fengari';

export type EngineName = 'wasmoon' | 'fengari';
export const ENGINE_NAMES: EngineName[] = ['wasmoon', 'fengari'];

interface EngineModules {
  wasmoon: typeof WasmoonEngine;
  fengari: typeof FengariEngine;
}
const loaders: { [K in EngineName]: () => EngineModules[K] } = {
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

let sharedWasmoon: Promise<WasmoonEngine> | undefined;
let sharedWasmoonReady: WasmoonEngine | undefined;

/**
 * Create (or share) an engine. One wasmoon wasm instance serves every device in the process
 * (about 130 KB per idle VM, lua-engine.md §8); each device still gets its own lua_State.
 * A shared instance that trapped (`broken`) is dropped: the next caller gets a fresh one.
 */
export function createEngine(name: EngineName = 'wasmoon', opts: { isolated?: boolean } = {}): Promise<LuaEngine> {
  if (name !== 'wasmoon' && name !== 'fengari') return Promise.reject(new Error(`unknown engine '${name}' (use wasmoon or fengari)`));
  let cls: EngineModules[EngineName];
  try {
    cls = engineClass(name);
  } catch (e) {
    return Promise.reject(e);
  }
  if (name === 'fengari') return (cls as typeof FengariEngine).create();
  const Wasmoon = cls as typeof WasmoonEngine;
  if (opts.isolated) return Wasmoon.create();
  if (sharedWasmoonReady?.broken) {
    sharedWasmoon = undefined;
    sharedWasmoonReady = undefined;
  }
  if (!sharedWasmoon) {
    const p = Wasmoon.create();
    sharedWasmoon = p;
    p.then(
      (e) => {
        if (sharedWasmoon === p) sharedWasmoonReady = e;
      },
      () => {
        if (sharedWasmoon === p) sharedWasmoon = undefined;
      },
    );
  }
  return sharedWasmoon;
}

export * from './types';
