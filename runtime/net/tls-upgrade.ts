// TLS over an already connected device socket, shared by the HTTP and WebSocket clients.
import * as tls from 'node:tls';
import type * as net from 'node:net';

/** True for an IPv4 or IPv6 literal (no SNI is sent for those). */
export function isIpHost(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(':');
}

/**
 * Starts TLS on `raw` with `options` (its `socket` is set here) and resolves once the handshake
 * is done. An error or a close before that rejects; a throwing `tls.connect` destroys `raw`.
 */
export function tlsOnSocket(raw: net.Socket, options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    let s: tls.TLSSocket;
    try {
      s = tls.connect({ ...options, socket: raw });
    } catch (e) {
      raw.destroy();
      reject(e);
      return;
    }
    const onError = (e: Error) => {
      s.destroy();
      reject(e);
    };
    const onClose = () => reject(new Error('connection closed during the TLS handshake'));
    s.once('error', onError);
    s.once('close', onClose);
    s.once('secureConnect', () => {
      s.off('error', onError);
      s.off('close', onClose);
      resolve(s);
    });
  });
}
