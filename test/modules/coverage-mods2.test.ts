import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { runLua } from '../helpers/run-lua';
import { removeRunDirs } from './mods2-util';

// --coverage watches the part-2 modules: a function they lack is reported by name as missing,
// the ones they have count as implemented.
test('coverage watches xxtea, rsa, gmssl, protobuf, errDump and hmeta', async () => {
  const src = `
for _, m in ipairs({xxtea, rsa, gmssl, protobuf, errDump, hmeta}) do
  if m.no_such_function then end
end
log.info("T", gmssl.sm3("abc"):toHex():sub(1, 8), hmeta.model())
log.info("DONE")
`;
  const r = await runLua({ 'main.lua': src }, { until: 'I/user.DONE', device: { coverage: true } });
  removeRunDirs(r);
  const rows = r.device.coverage?.rows() ?? [];
  const missing = rows.filter((x) => x.status === 'missing').map((x) => x.name).sort();
  assert.deepEqual(missing, ['errDump', 'gmssl', 'hmeta', 'protobuf', 'rsa', 'xxtea'].map((m) => `${m}.no_such_function`).sort());
  assert.ok(rows.some((x) => x.name === 'gmssl.sm3' && x.status === 'implemented'));
  assert.ok(r.lines.some((l) => l.includes('luatos:gmssl.no_such_function is not implemented by this runtime')));
  assert.ok(r.user.includes('I/user.T 66C7F0F4 Air8101'));
});
