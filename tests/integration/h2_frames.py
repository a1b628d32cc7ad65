"""Hand-built HTTP/2 frames for the transport attack tests (RFC 9113, RFC 7541).

A `RawH2Connection` speaks just enough HTTP/2 to misbehave on purpose: it sends
the preface and whatever frames a test builds, and a reader thread answers
SETTINGS and PING, and keeps the flow-control windows the server grants, so an
attack can send exactly what the server allows and no more. Standard library
only.
"""
from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from pathlib import Path

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x8, 0x9)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_FRAME_SIZE = 0x4, 0x5
AUTHORIZE_WEBHOOK = "/hookguard.v1.WebhookAuthService/AuthorizeWebhook"


def frame(type_: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([type_, flags]) + struct.pack(
        ">I", stream & 0x7FFFFFFF) + payload


def hpack_int(value: int, prefix_bits: int, first: int = 0) -> bytes:
    """RFC 7541 5.1: `value` with an N-bit prefix; `first` holds the bits above it."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out, value = bytearray([first | limit]), value - limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_string(data: bytes) -> bytes:
    return hpack_int(len(data), 7) + data  # no Huffman


def literal(name: str, value: bytes | str) -> bytes:
    """A literal header field without indexing, with a literal name (RFC 7541 6.2.2)."""
    value = value.encode() if isinstance(value, str) else value
    return b"\x00" + hpack_string(name.encode()) + hpack_string(value)


def grpc_request_headers(path: str = AUTHORIZE_WEBHOOK) -> bytes:
    return b"".join(literal(n, v) for n, v in [
        (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "hookguard"),
        ("content-type", "application/grpc"), ("te", "trailers")])


def rss_kib(pid: int) -> int:
    """The process's resident set (VmRSS) in KiB, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class RawH2Connection:
    """One plaintext HTTP/2 connection to 127.0.0.1:`port`; not thread-safe for senders."""

    def __init__(self, port: int, timeout: float = 5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.lock = threading.Condition()
        self.send_lock = threading.Lock()  # frames from two threads must not interleave
        self.closed = False  # the connection is unusable (closed, reset, or a send failed)
        self.eof = False  # the server closed or reset it (seen by the reader)
        self.goaway = False
        self.goaway_debug = b""
        self.reset_streams: set[int] = set()
        # What the peer lets us send (RFC 9113 6.9): 65,535 until it says otherwise.
        self.initial_window = 65535
        self.connection_window = 65535
        self.stream_windows: dict[int, int] = {}
        self.max_frame = 16384
        self.received_bytes = 0
        self._reader = threading.Thread(target=self._read_loop, daemon=True)

    def start(self, settings: bytes = b"") -> "RawH2Connection":
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0, settings))
        self._reader.start()
        return self

    def send(self, data: bytes) -> bool:
        """Sends `data`; False when the server has closed the connection."""
        try:
            with self.send_lock:
                self.sock.sendall(data)
            return True
        except OSError:
            with self.lock:
                self.closed = True
            return False

    def window(self, stream: int) -> int:
        with self.lock:
            return min(self.connection_window, self.stream_windows.get(stream, self.initial_window))

    def consume(self, stream: int, n: int) -> None:
        with self.lock:
            self.connection_window -= n
            self.stream_windows[stream] = self.stream_windows.get(stream, self.initial_window) - n

    def wait_window(self, stream: int, need: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.lock:
            while (min(self.connection_window, self.stream_windows.get(stream, self.initial_window))
                   < need and not self.closed):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(left)
            return not self.closed

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def _recv_exact(self, n: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except socket.timeout:
                continue
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def _read_loop(self) -> None:
        while True:
            head = self._recv_exact(9)
            if head is None:
                break
            length = int.from_bytes(head[:3], "big")
            type_, flags = head[3], head[4]
            stream = int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
            payload = self._recv_exact(length) if length else b""
            if payload is None:
                break
            reply = b""
            with self.lock:
                self.received_bytes += 9 + length
                if type_ == SETTINGS and not flags & ACK:
                    for i in range(0, len(payload) - 5, 6):
                        key, value = struct.unpack(">HI", payload[i:i + 6])
                        if key == SETTINGS_INITIAL_WINDOW_SIZE:
                            delta = value - self.initial_window
                            self.initial_window = value
                            for s in self.stream_windows:
                                self.stream_windows[s] += delta
                        elif key == SETTINGS_MAX_FRAME_SIZE:
                            self.max_frame = value
                    reply = frame(SETTINGS, ACK, 0)
                elif type_ == PING and not flags & ACK:
                    reply = frame(PING, ACK, 0, payload)
                elif type_ == WINDOW_UPDATE:
                    inc = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
                    if stream == 0:
                        self.connection_window += inc
                    else:
                        self.stream_windows[stream] = self.stream_windows.get(
                            stream, self.initial_window) + inc
                elif type_ == RST_STREAM:
                    self.reset_streams.add(stream)
                elif type_ == GOAWAY:
                    self.goaway = True
                    self.goaway_debug = payload[8:]
                self.lock.notify_all()
            if reply:
                self.send(reply)
        with self.lock:
            self.eof = self.closed = True
            self.lock.notify_all()


class RssSampler:
    """Samples a process's RSS every 50 ms in a thread; `peak` in KiB."""

    def __init__(self, pid: int):
        self.pid, self.peak = pid, rss_kib(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            with contextlib.suppress(OSError, RuntimeError):
                self.peak = max(self.peak, rss_kib(self.pid))

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kib(self.pid))


def continuation_flood(port: int, connections: int, seconds: float,
                       max_bytes: int) -> tuple[int, int]:
    """HEADERS for AuthorizeWebhook without END_HEADERS whose last field is a
    literal declaring a 2 GiB value, then CONTINUATION frames of that value,
    on `connections` connections at once. Stops at `seconds`, at `max_bytes`,
    or when the server closes the connections; returns the bytes sent and
    how many connections the server closed. Threat row 25: used by
    tests/integration/test_transport_limits.py and tests/image/test_image.py
    (through the image's nginx front proxy)."""
    head = grpc_request_headers() + b"\x00" + hpack_string(b"x-pad") + hpack_int(1 << 31, 7)
    sent = [0] * connections
    conns = [RawH2Connection(port, timeout=10).start() for _ in range(connections)]
    started = time.monotonic()

    def flood(i: int) -> None:
        c = conns[i]
        c.send(frame(HEADERS, 0, 1, head))
        block = frame(CONTINUATION, 0, 1, b"a" * 16384)
        while (not c.closed and sent[i] < max_bytes // connections
               and time.monotonic() - started < seconds):
            if not c.send(block * 16):
                break
            sent[i] += len(block) * 16

    threads = [threading.Thread(target=flood, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.5)  # a reader may still be reading the server's last frames
    closed_by_server = sum(c.eof for c in conns)
    for c in conns:
        c.close()
    return sum(sent), closed_by_server
