/**
 * FastLZ (byte-aligned LZ77) compress/decompress, levels 1 and 2, written here from the format
 * and the published algorithm (FastLZ 0.5, the version the firmware carries in
 * components/fastlz) so the output is byte-for-byte what the device produces. No maintained
 * npm package implements FastLZ 0.5 with the firmware's level-2 far matches, hence our own.
 *
 * Format (the first byte's top 3 bits: 0 = level 1, 1 = level 2):
 * - literal run: ctrl < 32 → ctrl+1 raw bytes follow (1..32).
 * - match: len3 = ctrl >> 5 (1..7), distance-1 = ((ctrl & 31) << 8) | low byte.
 *   Level 1: len3 == 7 → one extra length byte before the low byte; length = len3 + 2 + extra.
 *   Level 2: len3 == 7 → extra length bytes while 255 (summed); low byte 255 with ctrl & 31 ==
 *   31 → a 16-bit big-endian distance follows, distance = that + 8191 + 1.
 * Compressor: 13-bit multiplicative hash (× 2654435769) of the next 3 bytes, one candidate per
 * slot; level 1 matches within 8192 bytes, level 2 within 73725 (far ones need 5 equal bytes);
 * the match is extended byte by byte up to 4 bytes before the end (the 32-bit device build;
 * x86-64 builds compare 4 bytes at once and can differ in the last bytes of the input).
 */

const HASH_LOG = 13;
const HASH_MASK = (1 << HASH_LOG) - 1;
const MAX_COPY = 32;
const MAX_LEN = 264;
const MAX_L1_DISTANCE = 8192;
const MAX_L2_DISTANCE = 8191;
const MAX_FARDISTANCE = 65535 + MAX_L2_DISTANCE - 1;

function hash(v: number): number {
  return (Math.imul(v, 0x9e3779b9) >>> (32 - HASH_LOG)) & HASH_MASK;
}

function readU32(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

class Out {
  buf: Uint8Array;
  n = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
  put(v: number): void {
    if (this.n >= this.buf.length) {
      const nb = new Uint8Array(this.buf.length * 2 + 16);
      nb.set(this.buf);
      this.buf = nb;
    }
    this.buf[this.n++] = v & 0xff;
  }
  private room(n: number): void {
    if (this.n + n <= this.buf.length) return;
    const nb = new Uint8Array(Math.max(this.buf.length * 2, this.n + n) + 16);
    nb.set(this.buf.subarray(0, this.n));
    this.buf = nb;
  }
  literals(src: Uint8Array, from: number, runs: number): void {
    // one control byte per 32 literals
    this.room(runs + Math.ceil(runs / MAX_COPY));
    while (runs > 0) {
      const k = Math.min(runs, MAX_COPY);
      this.buf[this.n++] = k - 1;
      this.buf.set(src.subarray(from, from + k), this.n);
      this.n += k;
      from += k;
      runs -= k;
    }
  }
}

function match1(out: Out, len: number, distance: number): void {
  distance--;
  while (len > MAX_LEN - 2) {
    out.put((7 << 5) + (distance >> 8));
    out.put(MAX_LEN - 2 - 7 - 2);
    out.put(distance & 255);
    len -= MAX_LEN - 2;
  }
  if (len < 7) {
    out.put((len << 5) + (distance >> 8));
    out.put(distance & 255);
  } else {
    out.put((7 << 5) + (distance >> 8));
    out.put(len - 7);
    out.put(distance & 255);
  }
}

function match2(out: Out, len: number, distance: number): void {
  distance--;
  const far = distance >= MAX_L2_DISTANCE;
  if (far) distance -= MAX_L2_DISTANCE;
  const dHigh = far ? 31 : distance >> 8;
  if (len < 7) out.put((len << 5) + dHigh);
  else {
    out.put((7 << 5) + dHigh);
    for (len -= 7; len >= 255; len -= 255) out.put(255);
    out.put(len);
  }
  if (far) {
    out.put(255);
    out.put(distance >> 8);
    out.put(distance & 255);
  } else out.put(distance & 255);
}

/**
 * Compress `input` at level 1 or 2. Returns null where the C library returns 0 (empty input,
 * an unknown level).
 */
export function fastlzCompress(input: Uint8Array, level: number): Uint8Array | null {
  if (level !== 1 && level !== 2) return null;
  const length = input.length;
  if (length === 0) return null;
  // readU32 may look up to 3 bytes past the end near the tail; C reads the Lua string's NUL and
  // beyond, the values there never decide a match (see ipLimit), so zero padding is equivalent
  const src = new Uint8Array(length + 8);
  src.set(input);
  const ipBound = length - 4;
  const ipLimit = length - 12 - 1;
  const htab = new Int32Array(1 << HASH_LOG);
  const out = new Out(Math.max(64, length + (length >> 4) + 16));
  const maxDist = level === 1 ? MAX_L1_DISTANCE : MAX_FARDISTANCE;
  let anchor = 0;
  let ip = 2;
  while (ip < ipLimit) {
    let ref: number;
    let distance: number;
    let seq: number;
    let cmp: number;
    do {
      seq = readU32(src, ip) & 0xffffff;
      const h = hash(seq);
      ref = htab[h];
      htab[h] = ip;
      distance = ip - ref;
      cmp = distance < maxDist ? readU32(src, ref) & 0xffffff : 0x1000000;
      if (ip >= ipLimit) break;
      ++ip;
    } while (seq !== cmp);
    if (ip >= ipLimit) break;
    --ip;
    if (level === 2 && distance >= MAX_L2_DISTANCE) {
      if (src[ref + 3] !== src[ip + 3] || src[ref + 4] !== src[ip + 4]) {
        ++ip;
        continue;
      }
    }
    if (ip > anchor) out.literals(src, anchor, ip - anchor);
    // byte-wise extension from ref+3 / ip+3 up to ipBound (counts the first mismatching byte)
    let p = ref + 3;
    let q = ip + 3;
    const start = p;
    while (q < ipBound) if (src[p++] !== src[q++]) break;
    const len = p - start;
    if (level === 1) match1(out, len, distance);
    else match2(out, len, distance);
    ip += len;
    seq = readU32(src, ip);
    htab[hash(seq & 0xffffff)] = ip++;
    htab[hash(seq >>> 8)] = ip++;
    anchor = ip;
  }
  out.literals(src, anchor, length - anchor);
  if (level === 2) out.buf[0] |= 1 << 5;
  return out.buf.subarray(0, out.n);
}

/**
 * Decompress into at most `maxout` bytes. Returns null where the C library returns 0: an
 * unknown level marker, truncated input, a reference before the start, output over maxout,
 * or an empty result.
 */
export function fastlzDecompress(input: Uint8Array, maxout: number): Uint8Array | null {
  const length = input.length;
  if (length === 0 || maxout <= 0) return null;
  const level = (input[0] >> 5) + 1;
  if (level !== 1 && level !== 2) return null;
  const ipLimit = length;
  const ipBound = ipLimit - 2;
  const out = new Uint8Array(maxout);
  let op = 0;
  let ip = 0;
  let ctrl = input[ip++] & 31;
  // bytes past the end read as 0 (C reads the Lua string's terminating NUL)
  const at = (i: number) => (i < length ? input[i] : 0); // only on the rarely taken length/distance paths
  for (;;) {
    if (ctrl >= 32) {
      let len = (ctrl >> 5) - 1;
      let ofs = (ctrl & 31) << 8;
      let ref = op - ofs - 1;
      if (level === 1) {
        if (len === 6) {
          if (ip > ipBound) return null;
          len += at(ip++);
        }
        ref -= at(ip++);
      } else {
        let code: number;
        if (len === 6) {
          do {
            if (ip > ipBound) return null;
            code = at(ip++);
            len += code;
          } while (code === 255);
        }
        code = at(ip++);
        ref -= code;
        if (code === 255 && ofs === 31 << 8) {
          if (!(ip < ipBound)) return null;
          ofs = at(ip++) << 8;
          ofs += at(ip++);
          ref = op - ofs - MAX_L2_DISTANCE - 1;
        }
      }
      len += 3;
      if (op + len > maxout) return null;
      if (ref < 0) return null;
      if (op - ref >= len) {
        out.copyWithin(op, ref, ref + len);
        op += len;
      } else for (let k = 0; k < len; k++) out[op++] = out[ref++]; // overlapping: repeats the pattern
    } else {
      ctrl++;
      if (op + ctrl > maxout) return null;
      if (ip + ctrl > ipLimit) return null;
      out.set(input.subarray(ip, ip + ctrl), op);
      ip += ctrl;
      op += ctrl;
    }
    if (level === 1 ? ip > ipBound : ip >= ipLimit) break;
    ctrl = input[ip++];
  }
  return op > 0 ? out.subarray(0, op) : null;
}
