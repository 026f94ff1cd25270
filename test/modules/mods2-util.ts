/** Removes the script and data folders a runLua/runSuite run created (runLua leaves them). */
import * as fs from 'node:fs';
import type { RunLuaResult } from '../helpers/run-lua';

export function removeRunDirs(run: RunLuaResult): void {
  fs.rmSync(run.dir, { recursive: true, force: true });
  fs.rmSync(run.device.vfs.dataDir, { recursive: true, force: true });
}
