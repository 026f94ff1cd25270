/**
 * The device's network as the bindings see it (http, socket, rtmp, sntp). The Wi-Fi model
 * (runtime/net/) implements it; `DirectNetwork` is the trivial always-up version.
 *
 * Every connection the scripts make goes through `connectTcp`, so that:
 *  - host mapping (`--map HOST[:PORT]=ADDR[:PORT]`, the profile's `hosts`) applies;
 *  - a connection on an adapter that is not ready fails, and open ones are destroyed when the
 *    link drops (as on the device).
 */
import type * as net from 'node:net';

export interface MappedAddress {
  /** where the connection really goes */
  host: string;
  port: number;
  /** true when a mapping rule changed the address */
  mapped: boolean;
}

export interface TcpConnectOptions {
  host: string;
  port: number;
  /** adapter index (socket.LWIP_STA = 2, ...); default: the default adapter */
  adapter?: number;
  /** connect timeout in ms (default 10000) */
  timeoutMs?: number;
  /** who is asking, for log lines ("http", "rtmp", ...) */
  owner?: string;
}

/**
 * Set on a host socket the device network destroyed because its link went down (the value says
 * which link): a socket's owner can tell that apart from a close by the peer.
 */
export const LINK_DOWN = Symbol('luatos.linkDown');

export class NetError extends Error {
  constructor(
    message: string,
    /** 'link-down' | 'refused' | 'timeout' | 'dns' | 'reset' | 'other' */
    readonly kind: 'link-down' | 'refused' | 'timeout' | 'dns' | 'reset' | 'other',
  ) {
    super(message);
    this.name = 'NetError';
  }
}

export interface DeviceNetwork {
  /** the adapter is registered and has an IP */
  adapterReady(adapter: number): boolean;
  /** the current default adapter (socket.dft) */
  defaultAdapter(): number;
  /** apply host mapping */
  mapAddress(host: string, port: number): MappedAddress;
  /** open a TCP connection through the device's adapter; rejects with NetError */
  connectTcp(opts: TcpConnectOptions): Promise<net.Socket>;
  /** destroy every connection opened through `adapter` (link loss, socket.close_all) */
  closeAll(adapter?: number): void;
}
