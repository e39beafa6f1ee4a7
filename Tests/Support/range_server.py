#!/usr/bin/env python3
"""A small static HTTP server for Cohort's download tests (standard library only).

Serves the files under --root over HTTP/1.1, honours `Range: bytes=N-` and
`bytes=N-M` (206 with Content-Range, 416 past the end), and can misbehave on
purpose so tests can exercise recovery:

  --cut NAME=BYTES   the first GET whose path ends with NAME sends its headers
                     (with the full Content-Length) and only BYTES bytes of the
                     body, then drops the connection: an interrupted download.
                     May be repeated.
  --no-range         ignore Range headers and always answer 200 with the whole
                     file, like a server without range support.
  --log FILE         append one JSON line per request: method, path, the Range
                     header (or null), the status and the body bytes sent.

It binds 127.0.0.1 on --port (0 picks a free port) and prints `PORT <n>` on
stdout, flushed, once it is listening. Stop it with SIGTERM (it unblocks
the signal itself, since test runners may spawn it with signals blocked).
"""
import argparse
import http.server
import json
import os
import re
import signal
import socket
import sys
import threading
import urllib.parse

CHUNK = 64 * 1024


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CohortTestServer/1.0"

    def log_message(self, fmt, *args):  # keep stderr quiet; the JSON log is the record
        pass

    def record(self, status, sent):
        cfg = self.server.cfg
        if cfg.log:
            line = json.dumps({"method": self.command, "path": self.path,
                               "range": self.headers.get("Range"), "status": status, "sent": sent})
            with cfg.lock, open(cfg.log, "a") as f:
                f.write(line + "\n")

    def resolve(self):
        cfg = self.server.cfg
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        full = os.path.realpath(os.path.join(cfg.root, rel))
        if not (full == cfg.root or full.startswith(cfg.root + os.sep)) or not os.path.isfile(full):
            return None
        return full

    def plain(self, status, text, extra=()):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.record(status, 0)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        cfg = self.server.cfg
        path = self.resolve()
        if path is None:
            return self.plain(404, "not found: " + self.path)
        size = os.path.getsize(path)
        start, end, status = 0, size - 1, 200
        header = self.headers.get("Range")
        if header and not cfg.no_range:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", header.strip())
            if not m:
                return self.plain(400, "bad Range header: " + header)
            start = int(m.group(1))
            if m.group(2):
                end = min(int(m.group(2)), size - 1)
            if start >= size or start > end:
                return self.plain(416, "range not satisfiable", [("Content-Range", "bytes */%d" % size)])
            status = 206
        length = end - start + 1
        limit = length
        with cfg.lock:
            for name, cut in list(cfg.cuts.items()):
                if self.path.endswith(name) and self.command == "GET":
                    limit = min(cut, length)
                    del cfg.cuts[name]
                    break
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "none" if cfg.no_range else "bytes")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        sent = 0
        if self.command == "GET":
            with open(path, "rb") as f:
                f.seek(start)
                while sent < limit:
                    block = f.read(min(CHUNK, limit - sent))
                    if not block:
                        break
                    self.wfile.write(block)
                    sent += len(block)
        self.wfile.flush()
        self.record(status, sent)
        if limit < length:
            # Drop the connection mid-body: the client sees a short transfer.
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Config:
    def __init__(self, args):
        self.root = os.path.realpath(args.root)
        self.no_range = args.no_range
        self.log = args.log
        self.lock = threading.Lock()
        self.cuts = {}
        for spec in args.cut:
            name, _, count = spec.rpartition("=")
            if not name or not count.isdigit():
                sys.exit("--cut wants NAME=BYTES, got " + spec)
            self.cuts[name] = int(count)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cut", action="append", default=[])
    p.add_argument("--no-range", action="store_true")
    p.add_argument("--log")
    args = p.parse_args()
    # A parent may have spawned us with signals blocked (test runners' threads do):
    # unblock them so SIGTERM stops the server.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.cfg = Config(args)
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
