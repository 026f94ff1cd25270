/**
 * C printf-style number formatting with exact decimal rounding (round-half-even on the
 * exact binary value, as glibc does). JS's toFixed/toExponential round ties differently
 * (`(1.25).toFixed(1)` is "1.3"; C prints "1.2"), and fengari's own formatting differs from C,
 * so float output that scripts see (json, tostring) goes through these.
 */

/** exact value of a finite double as mant * 2^exp (mant is an integer) */
function decompose(x: number): { mant: bigint; exp: number } {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, Math.abs(x));
  const hi = dv.getUint32(0);
  const lo = dv.getUint32(4);
  const e = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (e === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = e - 1075;
  }
  return { mant, exp };
}

/** round_half_even(|x| * 10^k) for an integer k (may be negative) */
function roundScaled(x: number, k: number): bigint {
  const { mant, exp } = decompose(x);
  let num = mant;
  let den = 1n;
  if (exp >= 0) num <<= BigInt(exp);
  else den <<= BigInt(-exp);
  if (k >= 0) num *= 10n ** BigInt(k);
  else den *= 10n ** BigInt(-k);
  const q = num / den;
  const r = num % den;
  const twice = 2n * r;
  if (twice > den || (twice === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

function special(x: number): string | null {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return null;
}

function sign(x: number): string {
  return x < 0 || Object.is(x, -0) ? '-' : '';
}

/** "%.<p>f" */
export function formatF(x: number, p: number): string {
  const s = special(x);
  if (s) return s;
  const n = roundScaled(x, p).toString().padStart(p + 1, '0');
  const body = p > 0 ? `${n.slice(0, n.length - p)}.${n.slice(n.length - p)}` : n;
  return sign(x) + body;
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** "%.<P>g" */
export function formatG(x: number, P: number): string {
  const s = special(x);
  if (s) return s;
  if (P === 0) P = 1;
  if (x === 0) return sign(x) + '0';
  let X = Number(Math.abs(x).toExponential(P - 1).split('e')[1]);
  let n = roundScaled(x, P - 1 - X);
  if (n >= 10n ** BigInt(P)) {
    X += 1;
    n = roundScaled(x, P - 1 - X);
  } else if (n < 10n ** BigInt(P - 1)) {
    X -= 1;
    n = roundScaled(x, P - 1 - X);
  }
  const d = n.toString();
  if (X < -4 || X >= P) {
    const m = stripZeros(d.length > 1 ? `${d[0]}.${d.slice(1)}` : d);
    return `${sign(x)}${m}e${X < 0 ? '-' : '+'}${String(Math.abs(X)).padStart(2, '0')}`;
  }
  const decimals = P - 1 - X;
  if (decimals <= 0) return sign(x) + d + '0'.repeat(-decimals);
  const padded = d.padStart(decimals + 1, '0');
  return sign(x) + stripZeros(`${padded.slice(0, padded.length - decimals)}.${padded.slice(padded.length - decimals)}`);
}
