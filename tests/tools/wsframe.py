# wsframe - a minimal websocket client for the tests (python3 standard
# library only): the upgrade request, frames written with or without a mask
# (the tests send malformed ones on purpose, so no library that refuses to),
# and frames read back. Used by tests/integration/test_logs_ws.sh (log-plex's
# websocket server) and tests/browser/test_page.sh (Chromium's DevTools
# protocol).
import base64, os, socket, struct


def connect(host, port, path, headers=(), rcvbuf=0, timeout=None):
    """Opens the upgrade. Returns (socket, HTTP status, bytes read past the
    response head)."""
    s = socket.socket()
    if timeout:
        s.settimeout(timeout)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
           % (path, host, port, key))
    s.sendall((req + "".join(h + "\r\n" for h in headers) + "\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0
    return s, status, rest


def frame(opcode, payload, mask=True):
    """One final frame of `opcode` holding `payload` (bytes)."""
    n = len(payload)
    m = 0x80 if mask else 0
    h = bytes([0x80 | opcode])
    if n < 126:
        h += bytes([m | n])
    elif n < 65536:
        h += bytes([m | 126]) + struct.pack(">H", n)
    else:
        h += bytes([m | 127]) + struct.pack(">Q", n)
    if mask:
        k = os.urandom(4)
        payload = bytes(b ^ k[i % 4] for i, b in enumerate(payload))
        h += k
    return h + payload


def frames(s, buf=b""):
    """Yields (opcode, payload) of each frame read from `s`, starting with
    the bytes in `buf`; raises EOFError when the connection closes."""
    def need(n):
        nonlocal buf
        while len(buf) < n:
            d = s.recv(65536)
            if not d:
                raise EOFError
            buf += d
    while True:
        need(2)
        n, off = buf[1] & 0x7f, 2
        if n == 126:
            need(4); n = struct.unpack(">H", buf[2:4])[0]; off = 4
        elif n == 127:
            need(10); n = struct.unpack(">Q", buf[2:10])[0]; off = 10
        need(off + n)
        op, payload, buf = buf[0] & 0x0f, buf[off:off + n], buf[off + n:]
        yield op, payload
