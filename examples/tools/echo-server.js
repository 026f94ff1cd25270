#!/usr/bin/env node
// A loopback echo server for the network examples (TCP, UDP or WebSocket), so they can run
// without nc or an Internet server:
//   node examples/tools/echo-server.js tcp 7000 close   # socket-tcp-client
//   node examples/tools/echo-server.js udp 5683     # socket-udp-client
//   node examples/tools/echo-server.js ws 8081      # websocket
// Binds 127.0.0.1 only; prints "echo <kind> listening on 127.0.0.1:<port>"; Ctrl-C stops it.
// TCP: sends back each chunk; with `close` it then closes the connection (the client's
// reconnect path), else it closes after a chunk holding "bye". UDP: sends each
// datagram back to its sender. WebSocket (the installed `ws` package): echoes text and binary.
'use strict';
const kind = process.argv[2];
const port = Number(process.argv[3] ?? 0);
const closeAfter = process.argv[4] === 'close';
if (!['tcp', 'udp', 'ws'].includes(kind) || !(port >= 0 && port <= 65535) || !Number.isInteger(port)) {
  console.error('usage: node examples/tools/echo-server.js tcp|udp|ws PORT [close]');
  process.exit(2);
}
const ready = (p) => console.log(`echo ${kind} listening on 127.0.0.1:${p}`);
const fail = (e) => {
  console.error(`echo ${kind}: ${e.message}`);
  process.exit(1);
};
if (kind === 'tcp') {
  const net = require('node:net');
  const srv = net.createServer((s) => {
    s.on('error', () => undefined);
    s.on('data', (d) => {
      s.write(d);
      if (closeAfter || /\bbye\b/.test(d.toString())) s.end();
    });
  });
  srv.on('error', fail);
  srv.listen(port, '127.0.0.1', () => ready(srv.address().port));
} else if (kind === 'udp') {
  const u = require('node:dgram').createSocket('udp4');
  u.on('error', fail);
  u.on('message', (m, r) => u.send(m, r.port, r.address));
  u.bind(port, '127.0.0.1', () => ready(u.address().port));
} else {
  const { WebSocketServer } = require('ws');
  const wss = new WebSocketServer({ port, host: '127.0.0.1', maxPayload: 1 << 20 });
  wss.on('error', fail);
  wss.on('connection', (s) => {
    s.on('error', () => undefined);
    s.on('message', (d, binary) => s.send(d, { binary }));
  });
  wss.on('listening', () => ready(wss.address().port));
}
