// A test app for tests/integration/test_router_ws.sh: a websocket echo
// server on $PORT (node `ws`, installed next to this file by the test),
// answering plain HTTP requests with `ws-echo $DYNO`. Each message comes
// back prefixed with `echo:`; the message `close` makes the server close.
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`ws-echo ${process.env.DYNO || ''}\n`);
});
const wss = new WebSocketServer({ server });
wss.on('connection', (ws, req) => {
    ws.send(`hello ${req.headers['x-forwarded-proto']} ${req.headers['x-request-id'] ? 'id' : 'no-id'}`);
    ws.on('message', (data) => {
        if (data.toString() === 'close')
            ws.close(1000, 'bye');
        else
            ws.send(`echo:${data}`);
    });
});
server.listen(Number(process.env.PORT || 5000), () => {
    console.log(`ws-echo listening on ${process.env.PORT}`);
});
