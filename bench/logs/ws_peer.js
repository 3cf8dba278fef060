// ws_peer - the fan-out peer of bench-logs: a broadcast server on Node's `ws`
//
// Usage: NODE_PATH=DIR/node_modules node ws_peer.js naive|batch
//
// Listens for websockets on 127.0.0.1 (any path) and for the generator on
// a second 127.0.0.1 TCP port, then prints `ready WS_PORT INPUT_PORT`.
// Every "\n"-ended line read from the input goes to every open websocket
// as TEXT, each message holding whole lines ending in "\n" (the format
// log-plex's tails send):
//   naive  one ws.send per line per socket, as the line is read
//   batch  the lines read in one event-loop turn are joined and sent once
//          per socket, from setImmediate (one write per socket per tick)
// No permessage-deflate (ws's server default), no back-pressure handling:
// a slow socket buffers in Node's memory, as a plain broadcast server does.

'use strict';
const net = require('net');
const { WebSocketServer } = require('ws');

const mode = process.argv[2];
if (mode !== 'naive' && mode !== 'batch') {
  process.stderr.write('usage: node ws_peer.js naive|batch\n');
  process.exit(2);
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
let rest = null;        // bytes of a line not yet ended
let queued = [];        // batch mode: whole-line chunks of this tick
let scheduled = false;

function broadcast(data) {
  for (const client of wss.clients)
    if (client.readyState === 1)
      client.send(data, { binary: false });
}

function flush() {
  scheduled = false;
  const data = queued.length === 1 ? queued[0] : Buffer.concat(queued);
  queued = [];
  broadcast(data);
}

function onData(chunk) {
  let data = rest ? Buffer.concat([rest, chunk]) : chunk;
  const cut = data.lastIndexOf(10);
  if (cut < 0) {
    rest = data;
    return;
  }
  rest = cut + 1 < data.length ? data.subarray(cut + 1) : null;
  const whole = data.subarray(0, cut + 1);
  if (mode === 'batch') {
    queued.push(whole);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
    return;
  }
  for (let start = 0; start < whole.length; ) {
    const nl = whole.indexOf(10, start);
    broadcast(whole.subarray(start, nl + 1));
    start = nl + 1;
  }
}

const input = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', onData);
  socket.on('error', () => {});
});

wss.on('listening', () => {
  input.listen(0, '127.0.0.1', () => {
    process.stdout.write(`ready ${wss.address().port} ${input.address().port}\n`);
  });
});
process.on('SIGTERM', () => process.exit(0));
