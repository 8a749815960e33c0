#!/usr/bin/env python3
"""A misbehaving image server for mmdb's fetch tests (stdlib only).

Serves the files of --root (real sample images) on 127.0.0.1 at a free port,
written to --port-file once listening. The first path component picks a
behaviour; the rest names an image file in --root (or is a free key):

  /img/NAME              200 with the image
  /slow/NAME             200 with the image after 0.3 s (most at once since the last /_max: /_max)
  /range/.../NAME        the image, honouring "Range: bytes=N-" with 206
  /redir/NAME            302 to /img/NAME
  /404/X, /403/X         that status with an HTML body
  /flaky/KEY/NAME        500 on the first request for KEY, then 200
  /always503/KEY         503 every time
  /429/KEY/NAME          429 with Retry-After: 1 on the first request, then 200
  /drip/.../NAME         200, Content-Length, 64 bytes every 0.25 s
  /stall/NAME            200, Content-Length, 100 bytes, then silence
  /truncated/NAME        Content-Length of the whole, half the bytes, close
  /cllie/NAME            Content-Length of half, then all the bytes
  /big/NAME              Content-Length of 100 MB, then bytes
  /bignocl/NAME          no Content-Length: bytes until the client gives up
  /loop/N                302 to /loop/N+1, forever
  /tofile/X              302 to file:///etc/passwd
  /html/X                200 text/html
  /_inflight             how many /slow/ requests are being served now
  /_log                  JSON: [[path, unix time, user agent, range], ...] of every request so far
"""
import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
LOG = []
COUNTS = {}
INFLIGHT = [0, 0]  # /slow/ requests being served now, and the most at once


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    root = "."

    def log_message(self, fmt, *args):  # quiet
        pass

    def image(self, name):
        path = os.path.join(self.root, os.path.basename(name.split("?")[0]))
        with open(path, "rb") as f:
            return f.read()

    def send(self, status, body=b"", ctype="image/jpeg", headers=(), length=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def count(self, key):
        with LOCK:
            COUNTS[key] = COUNTS.get(key, 0) + 1
            return COUNTS[key]

    def do_GET(self):
        with LOCK:
            LOG.append([self.path, time.time(), self.headers.get("User-Agent", ""),
                        self.headers.get("Range", "")])
        parts = self.path.lstrip("/").split("/")
        kind, rest = parts[0], parts[1:]
        try:
            self.route(kind, rest)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def route(self, kind, rest):
        html = b"<!DOCTYPE html><html><body>not here</body></html>"
        if kind == "_log":
            with LOCK:
                body = json.dumps(LOG).encode()
            self.send(200, body, "application/json")
        elif kind == "img":
            self.send(200, self.image(rest[0]))
        elif kind == "slow":
            with LOCK:
                INFLIGHT[0] += 1
                INFLIGHT[1] = max(INFLIGHT)
            try:
                time.sleep(0.3)
            finally:
                # Counted out before the reply: a client that starts its
                # next request as soon as this one ends is never counted
                # twice.
                with LOCK:
                    INFLIGHT[0] -= 1
            self.send(200, self.image(rest[0]))
        elif kind == "_inflight":
            with LOCK:
                now = INFLIGHT[0]
            self.send(200, str(now).encode(), "text/plain")
        elif kind == "_max":
            with LOCK:
                most, INFLIGHT[1] = INFLIGHT[1], INFLIGHT[0]
            self.send(200, str(most).encode(), "text/plain")
        elif kind == "range":
            data = self.image(rest[-1])
            rng = self.headers.get("Range", "")
            if rng.startswith("bytes=") and rng.endswith("-"):
                start = int(rng[6:-1])
                if start >= len(data):
                    self.send(416, b"", "text/plain")
                    return
                self.send(206, data[start:], headers=[
                    ("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))])
            else:
                self.send(200, data)
        elif kind == "redir":
            self.send(302, b"", "text/html", [("Location", "/img/" + rest[0])])
        elif kind in ("404", "403"):
            self.send(int(kind), html, "text/html")
        elif kind == "flaky":
            if self.count("flaky/" + rest[0]) == 1:
                self.send(500, html, "text/html")
            else:
                self.send(200, self.image(rest[1]))
        elif kind == "always503":
            self.send(503, html, "text/html")
        elif kind == "429":
            if self.count("429/" + rest[0]) == 1:
                self.send(429, html, "text/html", [("Retry-After", "1")])
            else:
                self.send(200, self.image(rest[1]))
        elif kind == "drip":
            data = self.image(rest[-1])
            self.send(200, length=len(data))
            for i in range(0, len(data), 64):
                self.wfile.write(data[i:i + 64])
                self.wfile.flush()
                time.sleep(0.25)
        elif kind == "stall":
            data = self.image(rest[0])
            self.send(200, length=len(data))
            self.wfile.write(data[:100])
            self.wfile.flush()
            time.sleep(30)
            self.close_connection = True
        elif kind == "truncated":
            data = self.image(rest[0])
            self.send(200, length=len(data))
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif kind == "cllie":
            data = self.image(rest[0])
            self.send(200, length=len(data) // 2)
            self.wfile.write(data)
            self.close_connection = True
        elif kind == "big":
            data = self.image(rest[0])
            self.send(200, length=100 << 20)
            for _ in range(2000):
                self.wfile.write(data)
            self.close_connection = True
        elif kind == "bignocl":
            data = self.image(rest[0])
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            for _ in range(2000):
                self.wfile.write(data)
        elif kind == "loop":
            n = int(rest[0]) + 1
            self.send(302, b"", "text/html", [("Location", "/loop/%d" % n)])
        elif kind == "tofile":
            self.send(302, b"", "text/html", [("Location", "file:///etc/passwd")])
        elif kind == "html":
            self.send(200, html, "text/html")
        else:
            self.send(404, html, "text/html")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    Handler.root = a.root
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
