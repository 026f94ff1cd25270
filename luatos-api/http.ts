/**
 * http (luatos-api.md §7): `http.request(method, url, headers?, body?, opts?, server_ca?,
 * client_cert?, client_key?, client_key_password?)` → a future (§3.8).
 *
 * - `.wait()` (inside a task) gives `code, headers, body` for any HTTP status; a failure gives
 *   ONE negative code (−1 … −9, see runtime/http/types.ts and the files next to it). Argument
 *   and setup failures (bad URL, method over 11 bytes, adapter out of range, `dst` together
 *   with `fota`) give −4 at once, without yielding. A non-string `url` or `method` raises the
 *   stock argument error, as luaL_check* does.
 * - `opts`: `timeout` ms (below 1000, 0 and absent included: 60 s, or 300 s for a download),
 *   `dst` (download into the device file system), `adapter`, `callback(content_len,
 *   received_len, userdata)` + `userdata` (run as a C-side message, like the firmware's),
 *   `fota` (bool/table), `debug` and `ipv6` (accepted, no effect).
 * - `body`: a string is sent with Content-Length; a zbuff's used bytes are sent for POST/PUT,
 *   for other methods the zbuff receives the response body (the body result is then its
 *   length).
 * - Limits (hostile servers): the response body is capped at what the profile's memory holds
 *   (runtime/http/sinks.ts deviceBodyLimit; Air8101: 2 097 144 bytes) → −6 with the E line
 *   `out of memory when recv http body`; a zbuff body by the same limit → −7; a download by
 *   the file system's free flash → −7 (`err when fwrite <dst>`, file removed); header block
 *   4096 bytes and 100 lines → −2. The response headers table has no JS prototype, so a header
 *   named `__proto__` is an ordinary key.
 * - HTTPS: the certificate is NOT verified unless `server_ca` (PEM) is given; then the chain
 *   and the host name of the URL are verified for real. `client_cert`/`client_key`/password
 *   are used for mutual TLS.
 * - The wire (request head format, response parsing, result codes) is runtime/http/; it runs on
 *   sockets from the device network (`vm.device.net.connectTcp`: host mapping, link loss).
 *
 * Firmware log lines at the device's points: `http idp:<n>` (I) when the request starts; for
 * a host name the DNS query lines (`DNS:<host> state 0 id <n> ipv6 0 use dns server0, try 0`,
 * `net:adatper <a> dns server <dns>`, `net:dns udp sendto <dns>:53 from <ip>`) and, once
 * connected, `DNS:dns all done ,now stop`; then `net:adapter <a> connect <ip>:<port> TCP` with
 * the address the connection really went to (after `--map`), and `http close 0x...` (I) when the
 * request ends (also after an immediate failure). The Wi-Fi model logs the DNS/connect lines
 * itself (`logsConnections: true` on the DeviceNetwork); then the binding leaves them out. For
 * other networks (DirectNetwork) the binding logs them, with the DNS server and device IP from
 * the profile's `network.dns` / `network.ip` (else 223.5.5.5 and the host's primary IPv4).
 *
 * While a request is in flight the device clock is held (`Clock.hold`), so under
 * `--clock virtual` the timeout is real time. When the VM ends, in-flight requests are
 * cancelled and their sockets closed.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { LuaError, LuaState, LUA_TBOOLEAN, LUA_TFUNCTION, LUA_TNUMBER, LUA_TSTRING, LUA_TTABLE } from '../runtime/core/engine/types';
import type { Args } from '../runtime/core/vm/lua-value';
import type { Vm } from '../runtime/core/vm/vm';
import { ADAPTER_QTY } from '../runtime/net/adapters';
import { isIpHost } from '../runtime/net/tls-upgrade';
import { startHttpRequest, HttpExchange } from '../runtime/http/client';
import { deviceBodyLimit, FileSink, FotaSink, MemorySink, ZbuffSink } from '../runtime/http/sinks';
import { BodySink, HttpEnv, HttpTls, HTTP_ERROR_CONNECT } from '../runtime/http/types';
import { parseFirmwareUrl, UrlError } from '../runtime/http/url';
import { getZbuff } from './shared/zbuff';
import type { LogLevel } from '../runtime/core/log';

const METHOD_MAX = 11;
/** most progress-callback messages waiting in the VM queue per request (our bound, see below) */
const PROGRESS_QUEUE_MAX = 64;

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

function primaryIpv4(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '192.168.1.100';
}

/** DNS server and device IP for the network log lines (profile `network` section, else defaults). */
function netLogInfo(vm: Vm): { dns: string; ip: string } {
  const sec = vm.device.profile.network as { dns?: unknown; ip?: unknown } | undefined;
  const dns = Array.isArray(sec?.dns) && sec.dns.length ? String(sec.dns[0]) : '223.5.5.5';
  const ip = typeof sec?.ip === 'string' && sec.ip ? sec.ip : primaryIpv4();
  return { dns, ip };
}

/** The parts of the device file system's size accounting a download uses (duck-typed). */
interface FlashAccounting {
  freeBytes?: () => number;
  root?: { blockSize?: number; totalBlocks?: number; usedBlocks?: () => number; invalidate?: () => void };
}

/**
 * Flash space a download (`dst`) may take: the device file system's free bytes when it models
 * a flash size (`vm.vfs.freeBytes()`, or the root volume's `(totalBlocks - usedBlocks()) *
 * blockSize` plus the blocks of the old file at `dst`, which the download removes first), else
 * unlimited (the host disk's own errors still give −7). A `/ram/` destination is counted
 * against the root volume too (approximation).
 */
function flashFree(vm: Vm, dst: string): number {
  const v = vm.vfs as unknown as FlashAccounting;
  try {
    if (typeof v.freeBytes === 'function') {
      const n = v.freeBytes();
      return Number.isFinite(n) && n >= 0 ? n : Infinity;
    }
    const r = v.root;
    if (r && typeof r.usedBlocks === 'function' && Number.isFinite(r.totalBlocks) && Number.isFinite(r.blockSize) && (r.blockSize as number) > 0) {
      const bs = r.blockSize as number;
      let free = ((r.totalBlocks as number) - r.usedBlocks()) * bs;
      try {
        const st = fs.statSync(vm.vfs.writablePath(dst));
        if (st.isFile()) free += Math.ceil(st.size / bs) * bs;
      } catch {
        /* no old file */
      }
      return Math.max(0, free);
    }
  } catch {
    /* no accounting */
  }
  return Infinity;
}

/** One VM's http: the requests in flight, the client's environment, the `http close` handles. */
interface HttpCtx {
  vm: Vm;
  e: Vm['e'];
  active: Set<HttpExchange>;
  env: HttpEnv;
  /** a stable stand-in for the firmware's http_ctrl pointer in `http close 0x...` */
  ctrlHandle(): string;
}

/** The client's view of the device: network, clock, log (and the DNS/connect lines when the network does not log them). */
function httpEnv(vm: Vm): HttpEnv {
  let dnsId = 0;
  const env: HttpEnv = {
    net: vm.device.net,
    setTimer: (ms, fn) => vm.clock.setTimer(ms, fn),
    clearTimer: (h) => vm.clock.clearTimer(h),
    hold: (reason) => vm.clock.hold(reason),
    log: (level, module, message) => vm.log(level, module, message),
  };
  if (!(vm.device.net as { logsConnections?: boolean }).logsConnections) {
    env.logDnsStart = (host, adapter) => {
      const { dns, ip } = netLogInfo(vm);
      vm.log('D', 'DNS', `${host} state 0 id ${++dnsId} ipv6 0 use dns server0, try 0`);
      vm.log('D', 'net', `adatper ${adapter} dns server ${dns}`);
      vm.log('D', 'net', `dns udp sendto ${dns}:53 from ${ip}`);
    };
    env.logConnected = (host, ip, port, adapter) => {
      if (!isIpHost(host)) vm.log('I', 'DNS', 'dns all done ,now stop');
      vm.log('D', 'net', `adapter ${adapter} connect ${ip.replace(/^::ffff:/, '')}:${port} TCP`);
    };
  }
  return env;
}

/** the string form of a header key/value as the firmware's lua_tostring / tostring gives it */
function fieldText(e: Vm['e'], L: LuaState, idx: number): Buffer {
  const t = e.type(L, idx);
  if (t === LUA_TSTRING || t === LUA_TNUMBER) {
    e.pushvalue(L, idx); // a copy: converting a key in place would break lua_next
    const b = Buffer.from(e.tobytes(L, -1) as Uint8Array);
    e.pop(L, 1);
    return b;
  }
  const b = Buffer.from(e.tolstringmeta(L, idx));
  e.pop(L, 1);
  return b;
}

interface RequestOpts {
  adapter: number | undefined;
  timeout: number;
  dst: string | null;
  fota: boolean;
  hasCallback: boolean;
}

/** the opts table (argument 5) */
function readOpts(e: Vm['e'], L: LuaState): RequestOpts {
  const o: RequestOpts = { adapter: undefined, timeout: 0, dst: null, fota: false, hasCallback: false };
  if (e.type(L, 5) === LUA_TTABLE) {
    if (e.getfield(L, 5, 'adapter') === LUA_TNUMBER) o.adapter = Math.trunc(e.tonumber(L, -1) as number);
    e.pop(L, 1);
    if (e.getfield(L, 5, 'timeout') === LUA_TNUMBER) o.timeout = Math.trunc(e.tonumber(L, -1) as number);
    e.pop(L, 1);
    if (e.getfield(L, 5, 'dst') === LUA_TSTRING) o.dst = latin1(e.tobytes(L, -1) as Uint8Array);
    e.pop(L, 1);
    const ft = e.getfield(L, 5, 'fota');
    o.fota = ft === LUA_TTABLE || (ft === LUA_TBOOLEAN && e.toboolean(L, -1));
    e.pop(L, 1);
    o.hasCallback = e.getfield(L, 5, 'callback') === LUA_TFUNCTION;
    e.pop(L, 1);
  }
  return o;
}

/** the headers table (argument 3), in table order */
function readHeaders(e: Vm['e'], L: LuaState): Array<[Buffer, Buffer]> {
  const headers: Array<[Buffer, Buffer]> = [];
  if (e.type(L, 3) === LUA_TTABLE) {
    e.pushnil(L);
    while (e.next(L, 3)) {
      headers.push([fieldText(e, L, -2), fieldText(e, L, -1)]);
      e.pop(L, 1);
    }
  }
  return headers;
}

/** the body (argument 4) and where the answer's body goes (at most what the device's memory holds, see deviceBodyLimit) */
function readBody(vm: Vm, a: Args, method: string, o: RequestOpts): { body: Buffer | null; sink: BodySink } {
  const { e } = vm;
  const L = a.L;
  const logFn = (l: LogLevel, m: string, s: string) => vm.log(l, m, s);
  const bodyLimit = deviceBodyLimit(vm.device.profile.memory);
  const isPost = method === 'POST' || method === 'PUT';
  let body: Buffer | null = null;
  let sink: BodySink | null = null;
  if (e.isstring(L, 4)) {
    body = Buffer.from(a.bytes(4));
  } else {
    const z = getZbuff(vm, L, 4);
    if (z) {
      if (isPost) body = Buffer.from(z.usedBytes());
      else sink = new ZbuffSink(z, bodyLimit, logFn);
    }
  }
  if (o.dst !== null) {
    const d = o.dst;
    sink = new FileSink(d, () => vm.vfs.writablePath(d), logFn, flashFree(vm, d));
  } else if (o.fota) {
    sink = new FotaSink((l, m, s) => vm.log(l, m, s));
  }
  sink ??= new MemorySink(bodyLimit, logFn);
  return { body, sink };
}

/** the TLS material (arguments 6..9, https only) */
function readTls(e: Vm['e'], a: Args): HttpTls {
  const L = a.L;
  const tlsOpts: HttpTls = {};
  if (e.isstring(L, 6)) tlsOpts.ca = Buffer.from(a.bytes(6));
  if (e.isstring(L, 7)) tlsOpts.cert = Buffer.from(a.bytes(7));
  if (e.isstring(L, 8)) tlsOpts.key = Buffer.from(a.bytes(8));
  if (e.isstring(L, 9)) tlsOpts.passphrase = latin1(a.bytes(9));
  return tlsOpts;
}

/**
 * The progress callback: one message per body piece, as the firmware's; but at most
 * PROGRESS_QUEUE_MAX of them wait in the VM queue: past that the newest waiting one takes the
 * latest counts (a server sending a million 1-byte chunks must not queue a million messages).
 */
function progressReporter(vm: Vm, cbRef: number, udRef: number): (contentLen: number, received: number) => void {
  const { e } = vm;
  let progressQueued = 0;
  let lastProgress: { contentLen: number; received: number } | null = null;
  return (contentLen, received) => {
    if (lastProgress && progressQueued >= PROGRESS_QUEUE_MAX) {
      lastProgress.contentLen = contentLen;
      lastProgress.received = received;
      return;
    }
    const p = { contentLen, received };
    lastProgress = p;
    progressQueued++;
    vm.post((L2) => {
      progressQueued--;
      if (lastProgress === p) lastProgress = null;
      e.rawgeti(L2, e.REGISTRYINDEX, cbRef);
      if (e.type(L2, -1) !== LUA_TFUNCTION) {
        e.pop(L2, 1);
        return 0;
      }
      e.pushinteger(L2, p.contentLen);
      e.pushinteger(L2, p.received);
      e.rawgeti(L2, e.REGISTRYINDEX, udRef);
      e.call(L2, 3, 0);
      return 0;
    });
  };
}

/** The request ended: the future resolved (code, or status, headers, body), the callback refs freed. */
function requestDone(ctx: HttpCtx, x: HttpExchange, r: { topic: Buffer; handle: string; dst: string | null; cbRef: number; udRef: number }): void {
  const { vm, e } = ctx;
  void x.done.then((o) => {
    ctx.active.delete(x);
    // the download wrote (or removed) a file behind the volume accounting's back
    if (r.dst !== null) (vm.vfs as unknown as FlashAccounting).root?.invalidate?.();
    if (vm.isDead) return;
    vm.log('I', 'http', `http close ${r.handle}`);
    if (o.kind === 'error') {
      vm.resolveFuture(r.topic, [o.code]);
    } else {
      // prototype-less: a header named `__proto__` (or `constructor`) is just a key
      const table: Record<string, Buffer> = Object.create(null);
      for (const [n, v] of o.headers) table[n.toString('latin1')] = v;
      vm.resolveFuture(r.topic, [o.status, table, o.body]);
    }
    const { cbRef, udRef } = r;
    if (cbRef || udRef) {
      // after any queued progress calls
      vm.post((L2) => {
        if (cbRef) e.unref(L2, e.REGISTRYINDEX, cbRef);
        if (udRef) e.unref(L2, e.REGISTRYINDEX, udRef);
        return 0;
      });
    }
  });
}

/** http.request(method, url, headers, body, opts, ca, cert, key, password) → a future */
function request(ctx: HttpCtx, a: Args): number {
  const { vm, e } = ctx;
  const L = a.L;
  const handle = ctx.ctrlHandle();
  const failNow = (msg: string | null, level: Extract<LogLevel, 'I' | 'E'> = 'E'): number => {
    if (msg) vm.log(level, 'http', msg);
    vm.log('I', 'http', `http close ${handle}`);
    vm.pushFailedFuture(L, [HTTP_ERROR_CONNECT]);
    return 1;
  };

  // opts (read first, as the firmware does)
  const o = readOpts(e, L);
  if (o.fota && o.dst !== null) return failNow('Only one can be selected for FOTA and Download');
  const adapterIdx = o.adapter ?? vm.device.net.defaultAdapter();
  if (adapterIdx < 0 || adapterIdx >= ADAPTER_QTY) return failNow(`bad network adapter index ${adapterIdx}`);

  const method = a.isNoneOrNil(1) ? 'GET' : latin1(a.bytes(1));
  if (method.length > METHOD_MAX) return failNow(`method is too long ${method}`);
  const urlText = latin1(a.bytes(2));
  let url;
  try {
    url = parseFirmwareUrl(urlText);
  } catch (err) {
    if (err instanceof UrlError) return failNow(err.message, 'I');
    throw err;
  }
  const headers = readHeaders(e, L);
  const { body, sink } = readBody(vm, a, method, o);
  const tlsOpts = url.tls ? readTls(e, a) : undefined;
  const timeout = o.timeout < 1000 ? (o.dst !== null ? 300000 : 60000) : o.timeout;

  // progress callback + userdata, kept in the registry until the request ends
  let cbRef = 0;
  let udRef = 0;
  if (o.hasCallback) {
    e.getfield(L, 5, 'callback');
    cbRef = e.ref(L, e.REGISTRYINDEX);
    e.getfield(L, 5, 'userdata');
    udRef = e.ref(L, e.REGISTRYINDEX);
  }

  const topic = vm.pushFuture(L);
  const idp = topic.readBigUInt64LE(1);
  vm.log('I', 'http', `http idp:${idp}`);
  const onProgress = cbRef ? progressReporter(vm, cbRef, udRef) : undefined;

  let x: HttpExchange;
  try {
    x = startHttpRequest({ method, url, headers, body, timeoutMs: timeout, adapter: o.adapter, tls: tlsOpts, sink, onProgress }, ctx.env);
  } catch (err) {
    throw new LuaError(`http.request: ${(err as Error).message}`);
  }
  ctx.active.add(x);
  requestDone(ctx, x, { topic, handle, dst: o.dst, cbRef, udRef });
  return 1;
}

export function openHttp(vm: Vm): void {
  let ctrlSeq = 0;
  const ctx: HttpCtx = {
    vm,
    e: vm.e,
    active: new Set<HttpExchange>(),
    env: httpEnv(vm),
    ctrlHandle: () => `0x${(0x609c1a68 + ctrlSeq++ * 0x1a0).toString(16).padStart(8, '0')}`,
  };
  vm.onClose(() => {
    for (const x of ctx.active) x.cancel();
    ctx.active.clear();
  });
  vm.defineModule('http', { request: (a) => request(ctx, a) });
}
