import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENGINE_NAMES } from '../../runtime/core/engine';
import { tempDir } from '../helpers/tmp';

// The example scripts in examples/<module>/ run through the CLI with --coverage: every
// LuatOS function they use is implemented (nothing missing) and they print the values worked
// out by hand from the formats (byte layouts, GB2312 codes, the FastLZ C library's sizes).
const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'bin', 'luatos.js');

const EXPECT: Record<string, (string | RegExp)[]> = {
  pack: [
    'pack frame AA550000000C0374656D70 11', // AA55 | 0000000C | 03 | "temp"
    'pack unpack 12 0xAA55 12 3 temp',
    'pack payload 1EFB00005E424300 -12.5 55.5 C', // -1250 LE, 55.5f = 0x425E0000 LE, "C\0"
    'pack repeat 010002000300 12',
  ],
  bit: ['bit reg 9 true true', 'bit cleared 8', 'bit band/bor/bxor 48 255 240', 'bit shift 1024 1 32', 'bit field 188 40973', /bit bnot (-1|4294967295)$/],
  bit64: ['bit64 2^31 2147483648 0x80000000', 'bit64 bytes 1500000000', 'bit64 average 500000000', 'bit64 shift 1099511627776', 'bit64 strtoll -9876543210 123'],
  fskv: ['fskv boots 1', 'fskv settings 7 kitchen', 'fskv values 0.5 true', 'fskv keys boots,enabled,ratio,settings', /fskv status \d+ 65536 4$/],
  rtc: ['rtc timezone 32', 'rtc utc 2025-03-01 04:00:00', 'rtc local 2025-03-01 12:00:00', 'rtc os.time true', 'rtc alarm 12:00:05', 'rtc utc via os.date 04:00:10'],
  miniz: [/miniz before 1642 after \d+$/, 'miniz restored true', /miniz raw \d+ true$/, /miniz too big$/, 'miniz unzip true', 'miniz index.html 73 LuatOS', 'miniz app.css 680'], // site.zip: python3 -m zipfile -c
  fastlz: ['fastlz before 810 level1 43 level2 40', 'fastlz head 1A73656E736F723D 16', 'fastlz restored true', /fastlz maxout too small$/],
  iconv: ['iconv ucs2 0854995B2D4E8765 16', 'iconv gb2312 BACFD6E6D6D0CEC4 16', 'iconv back 合宙中文 true', 'iconv ucs2be 00414E2D 8', /iconv no direct pair$/],
};

function run(mod: string, engine: string, state: string): string[] {
  const r = spawnSync(
    process.execPath,
    [CLI, 'run', path.join(ROOT, 'examples', mod), '--engine', engine, '--coverage', '--clock', 'virtual', '--expect', `${mod} done`, '--state', state, '--timeout', '60'],
    { encoding: 'utf8', timeout: 60000 },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return r.stdout.split('\n');
}

for (const engine of ENGINE_NAMES) {
  test(`examples: examples/<module> print the expected values and --coverage lists nothing missing (${engine})`, () => {
    const state = tempDir('luatos-examples-');
    try {
      for (const [mod, wants] of Object.entries(EXPECT)) {
        const lines = run(mod, engine, path.join(state, mod));
        const user = lines.filter((l) => l.includes('I/user.')).map((l) => l.slice(l.indexOf('I/user.') + 'I/user.'.length));
        for (const w of wants) assert.ok(user.some((u) => (typeof w === 'string' ? u === w : w.test(u))), `${mod}: ${w}\n${user.join('\n')}`);
        const summary = lines.find((l) => /^implemented \d+, simulated \d+, missing \d+$/.test(l));
        assert.ok(summary, `${mod}: no coverage summary`);
        assert.match(summary, /missing 0$/, `${mod}:\n${lines.join('\n')}`);
        assert.ok(!lines.some((l) => l.includes('is not implemented by this runtime')), mod);
      }
      // fskv: the next run reads what the first wrote
      const again = run('fskv', engine, path.join(state, 'fskv'));
      assert.ok(again.some((l) => l.endsWith('I/user.fskv boots 2')), again.join('\n'));
    } finally {
      fs.rmSync(state, { recursive: true, force: true });
    }
  });
}
