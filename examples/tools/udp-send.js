#!/usr/bin/env node
// Send one UDP datagram to 127.0.0.1:PORT and print the answer (or "no answer" after 2 s):
//   node examples/tools/udp-send.js 5000 hello
'use strict';
const port = Number(process.argv[2]);
const text = process.argv.slice(3).join(' ') || 'hello';
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error('usage: node examples/tools/udp-send.js PORT [TEXT]');
  process.exit(2);
}
const u = require('node:dgram').createSocket('udp4');
const timer = setTimeout(() => {
  console.log('no answer');
  u.close();
  process.exitCode = 1;
}, 2000);
u.on('error', (e) => {
  console.error(`udp-send: ${e.message}`);
  clearTimeout(timer);
  u.close();
  process.exitCode = 1;
});
u.on('message', (m) => {
  console.log(String(m));
  clearTimeout(timer);
  u.close();
});
u.bind(0, '127.0.0.1', () => u.send(text, port, '127.0.0.1'));
