// client.js URL HOST MESSAGE... : connects through the router with node
// `ws` (Host header HOST), prints every message it gets, sends each
// MESSAGE in turn after the greeting and each echo, and prints `closed
// CODE` when the connection ends. `wait:MS` as a MESSAGE waits MS ms
// before the next one (to hold the tunnel idle).
'use strict';
const WebSocket = require('ws');
const [url, host, ...messages] = process.argv.slice(2);
const ws = new WebSocket(url, { headers: { Host: host } });
function next() {
    const m = messages.shift();
    if (m === undefined)
        return;
    if (m.startsWith('wait:'))
        return setTimeout(next, Number(m.slice(5)));
    ws.send(m);
}
ws.on('message', (data) => { console.log(data.toString()); next(); });
ws.on('close', (code) => { console.log(`closed ${code}`); process.exit(0); });
ws.on('error', (err) => { console.log(`error ${err.message}`); process.exit(1); });
