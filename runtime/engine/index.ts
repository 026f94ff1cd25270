/** Engine factory: `wasmoon` (default) or `fengari`. */
import { LuaEngine } from './types';
import { WasmoonEngine } from './wasmoon';
import { FengariEngine } from './fengari';

export type EngineName = 'wasmoon' | 'fengari';
export const ENGINE_NAMES: EngineName[] = ['wasmoon', 'fengari'];

let sharedWasmoon: Promise<WasmoonEngine> | undefined;
let sharedWasmoonReady: WasmoonEngine | undefined;

/**
 * Create (or share) an engine. One wasmoon wasm instance serves every device in the process
 * (about 130 KB per idle VM, lua-engine.md §8); each device still gets its own lua_State.
 * A shared instance that trapped (`broken`) is dropped: the next caller gets a fresh one.
 */
export function createEngine(name: EngineName = 'wasmoon', opts: { isolated?: boolean } = {}): Promise<LuaEngine> {
  if (name === 'fengari') return FengariEngine.create();
  if (name !== 'wasmoon') return Promise.reject(new Error(`unknown engine '${name}' (use wasmoon or fengari)`));
  if (opts.isolated) return WasmoonEngine.create();
  if (sharedWasmoonReady?.broken) {
    sharedWasmoon = undefined;
    sharedWasmoonReady = undefined;
  }
  if (!sharedWasmoon) {
    const p = WasmoonEngine.create();
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
