/**
 * Fleet naming: device names, MACs and shards (`luatos fleet --devices N --name-prefix P
 * --shard I/N`).
 *
 *  - Names: prefix + the device's fleet-wide index, zero-padded to the width of the largest
 *    index (at least 3 digits): `dev000` .. `dev199`. The index is fleet-wide, so every shard
 *    names its devices the same way whatever machine it runs on.
 *  - Shards: `--shard I/N` takes the contiguous slice [floor(I*D/N), floor((I+1)*D/N)) of the
 *    D device indices; the N slices are disjoint and cover all D. I counts from 0. `--shard
 *    auto/N` reads I from `$JOB_COMPLETION_INDEX` (the Kubernetes Indexed Job's pod index).
 *  - MACs: `C8C2C6` (the OUI of the reference device) + 24 bits: a base taken from the SHA-1 of
 *    the prefix plus the index (mod 2^24). Two devices of one fleet never share a MAC (indices
 *    are < MAX_FLEET_DEVICES < 2^24); fleets with different prefixes get different ranges (a
 *    hash: not guaranteed disjoint, a choice). The demo uses the STA MAC as its device id, so
 *    every device gets its own stream on the platform.
 *  - Other identities come from the name (`fleetProfile` drops a fixed `imei` and `uniqueId`
 *    of the profile): mcu.unique_id and, on the 4G boards, the IMEI the demo uses as device id.
 */
import * as crypto from 'node:crypto';

/** Largest `--devices` (a bound on what one fleet description may ask for). */
export const MAX_FLEET_DEVICES = 100_000;
/** Names: letters, digits, `_`, `-`, `.`; the prefix at most 32 characters. */
export const NAME_PREFIX_RE = /^[A-Za-z0-9_.-]{1,32}$/;

export interface ShardSpec {
  index: number;
  count: number;
}

/** Parse `I/N` or `auto/N` (I from `env.JOB_COMPLETION_INDEX`). Throws Error with a readable message. */
export function parseShard(text: string, env: NodeJS.ProcessEnv = process.env): ShardSpec {
  const m = /^(\d+|auto)\/(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`--shard must be I/N (e.g. 0/4) or auto/N, not '${text}'`);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_FLEET_DEVICES) throw new Error(`--shard: N must be a whole number from 1 to ${MAX_FLEET_DEVICES}`);
  let raw = m[1];
  if (raw === 'auto') {
    const v = env.JOB_COMPLETION_INDEX;
    if (v === undefined || v === '') throw new Error('--shard auto/N needs $JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job); give --shard I/N otherwise');
    if (!/^\d+$/.test(v.trim())) throw new Error(`$JOB_COMPLETION_INDEX is '${v}', not a whole number`);
    raw = v.trim();
  }
  const index = Number(raw);
  if (!Number.isSafeInteger(index) || index >= count) throw new Error(`--shard ${index}/${count}: I must be from 0 to ${count - 1}`);
  return { index, count };
}

/** The fleet-wide indices of one shard: a contiguous, disjoint slice. */
export function shardRange(devices: number, shard: ShardSpec = { index: 0, count: 1 }): { start: number; end: number } {
  const start = Math.floor((shard.index * devices) / shard.count);
  const end = Math.floor(((shard.index + 1) * devices) / shard.count);
  return { start, end };
}

/** Digits of the index in names (at least 3). */
export function nameWidth(devices: number): number {
  return Math.max(3, String(Math.max(0, devices - 1)).length);
}

export function deviceName(prefix: string, index: number, devices: number): string {
  return prefix + String(index).padStart(nameWidth(devices), '0');
}

/** The STA MAC of device `index` of the fleet named by `prefix` (12 upper-case hex digits). */
export function fleetMac(prefix: string, index: number): string {
  const h = crypto.createHash('sha1').update(`luatos-pc-fleet:${prefix}`).digest();
  const base = h.readUIntBE(0, 3);
  const low = (base + index) % 0x1000000;
  return ('C8C2C6' + low.toString(16).padStart(6, '0')).toUpperCase();
}

export interface FleetMember {
  /** fleet-wide index */
  index: number;
  name: string;
  mac: string;
}

/** The devices one process runs: names and MACs of its shard. */
export function fleetMembers(prefix: string, devices: number, shard?: ShardSpec): FleetMember[] {
  const { start, end } = shardRange(devices, shard);
  const out: FleetMember[] = [];
  for (let i = start; i < end; i++) out.push({ index: i, name: deviceName(prefix, i, devices), mac: fleetMac(prefix, i) });
  return out;
}

/** The profile of one fleet device: the common one with its name and MAC, and no fixed identity. */
export function fleetProfile<P extends { name: string; network?: unknown; imei?: unknown; uniqueId?: unknown }>(common: P, m: { name: string; mac: string }): P {
  const { imei: _imei, uniqueId: _uid, ...rest } = common;
  const net = common.network && typeof common.network === 'object' ? (common.network as object) : {};
  return { ...(rest as P), name: m.name, network: { ...net, mac: m.mac } };
}
