#!/usr/bin/python3
# SPDX-License-Identifier: ISC
# A real SMTP server for the tests (aiosmtpd): every message it accepts is
# written to DIR/N.eml, its envelope to DIR/N.json; a recipient whose local
# part is "refuse" is refused with 550, "later" with 451.  With CERT and
# KEY it offers STARTTLS and requires it.  Listens on 127.0.0.1, on a port
# it picks; writes the port to PORTFILE once it answers.
#   smtp_sink.py PORTFILE DIR [CERT KEY]
import json
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = out
        self.n = 0

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        local = address.split("@", 1)[0]
        if local == "refuse":
            return "550 5.1.1 no such user"
        if local == "later":
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(self.out, "%d" % self.n)
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from,
                       "to": envelope.rcpt_tos,
                       "tls": session.ssl is not None}, f)
        os.rename(base + ".tmp", base + ".eml")
        return "250 Message accepted"


def main():
    portfile, out = sys.argv[1], sys.argv[2]
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    kw = {}
    if len(sys.argv) == 5:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        kw = {"tls_context": ctx, "require_starttls": True}
    c = Controller(Sink(out), hostname="127.0.0.1", port=port, **kw)
    c.start()
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(portfile + ".tmp", portfile)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    stop.wait()
    c.stop()


if __name__ == "__main__":
    main()
