/** Shared bits of the module conformance tests: run a Lua suite and remove its folders. */
import * as fs from 'node:fs';
import type { EngineName } from '../../runtime/core/engine';
import type { RunLuaOptions } from '../helpers/run-lua';
import { runSuite, SuiteResult } from '../base/suite';

export async function suite(engine: EngineName, body: string, opts: RunLuaOptions = {}): Promise<SuiteResult> {
  let res: SuiteResult | undefined;
  try {
    res = await runSuite(engine, body, {}, opts);
    return res;
  } finally {
    if (res) {
      fs.rmSync(res.run.dir, { recursive: true, force: true });
      fs.rmSync(res.run.device.vfs.dataDir, { recursive: true, force: true });
    }
  }
}
