#!/usr/bin/env python3
"""A loopback HTTPS stand-in for provider APIs, for `--verify` figures
(`sweep --verify` over benches/make_many_repos.py). Makes a throwaway CA and
a leaf for the given host names with `openssl`, serves every request with
GitHub's documented "Get the authenticated user" answer (200), and counts
requests and the most in flight at once per Host. Nothing leaves 127.0.0.1.

Usage:
    python3 benches/verify_server.py DIR [HOST...]   (default api.github.com)

Writes DIR/ca.pem, prints `LEAKSCAN_VERIFY_CA_FILE=... LEAKSCAN_VERIFY_RESOLVE=...`
on its first line, and on SIGINT/SIGTERM prints the counts as JSON and exits.
"""

import json
import os
import signal
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def certs(d, hosts):
    def run(*a):
        subprocess.run(a, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", f"{d}/ca.key", "-out", f"{d}/ca.pem", "-days", "2", "-subj", "/CN=leakscan bench CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", f"{d}/leaf.key", "-out", f"{d}/leaf.csr", "-subj", f"/CN={hosts[0]}")
    with open(f"{d}/ext.cnf", "w") as f:
        f.write("subjectAltName=" + ",".join(f"DNS:{h}" for h in hosts) + "\n")
    run("openssl", "x509", "-req", "-in", f"{d}/leaf.csr", "-CA", f"{d}/ca.pem", "-CAkey", f"{d}/ca.key",
        "-CAcreateserial", "-out", f"{d}/leaf.pem", "-days", "2", "-extfile", f"{d}/ext.cnf")


lock = threading.Lock()
stats = {"requests": 0, "inflight": {}, "peak": {}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        with lock:
            stats["requests"] += 1
            n = stats["inflight"].get(host, 0) + 1
            stats["inflight"][host] = n
            stats["peak"][host] = max(stats["peak"].get(host, 0), n)
        try:
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            body = b'{"login":"octocat","id":1,"type":"User"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with lock:
                stats["inflight"][host] -= 1

    do_GET = do_POST = answer

    def log_message(self, *a):
        pass


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    d = os.path.abspath(sys.argv[1])
    hosts = sys.argv[2:] or ["api.github.com"]
    os.makedirs(d, exist_ok=True)
    certs(d, hosts)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(f"{d}/leaf.pem", f"{d}/leaf.key")
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    port = srv.server_address[1]
    resolve = ",".join(f"{h}=127.0.0.1:{port}" for h in hosts)
    print(f"LEAKSCAN_VERIFY_CA_FILE={d}/ca.pem LEAKSCAN_VERIFY_RESOLVE={resolve}", flush=True)

    def stop(*_):
        print(json.dumps({"requests": stats["requests"], "peak_in_flight": stats["peak"]}), flush=True)
        os._exit(0)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    srv.serve_forever()


if __name__ == "__main__":
    main()
