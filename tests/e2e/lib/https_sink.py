#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# A real HTTPS server for the tests: every POST is written to DIR/N.json
# ({"path","authorization","body"}); it answers 200 on /ok, 500 on /fail,
# 302 to /ok on /redirect, 404 elsewhere.  Listens on 127.0.0.1 with CERT
# and KEY, on a port it picks; writes the port to PORTFILE once listening.
#   https_sink.py PORTFILE DIR CERT KEY
import http.server
import json
import os
import ssl
import sys

OUT = sys.argv[2]
N = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(min(n, 1 << 20)).decode("utf-8", "replace")
        N[0] += 1
        base = os.path.join(OUT, "%d" % N[0])
        with open(base + ".tmp", "w") as f:
            json.dump({"path": self.path, "body": body,
                       "authorization":
                       self.headers.get("Authorization")}, f)
        os.rename(base + ".tmp", base + ".json")
        code = {"/ok": 200, "/fail": 500, "/redirect": 302}.get(self.path,
                                                               404)
        self.send_response(code)
        if code == 302:
            self.send_header("Location", "/ok")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
