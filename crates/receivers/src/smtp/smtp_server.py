"""The SMTP server of crates/outputs/tests/email_smtp.rs (aiosmtpd 1.4.6, installed by
scripts/test into the Sigma tools' venv).

    smtp_server.py --mode starttls|smtps --cert CERT.pem --key KEY.pem --dir OUT \
                   --user USER --password PASSWORD

starttls: plain connection, STARTTLS required before anything else, AUTH (PLAIN, LOGIN) offered
only after it and required before MAIL. smtps: TLS from the first byte, AUTH required.
Each message taken is written to OUT as NNN.eml (the bytes as received) with NNN.json beside
it (the envelope: mail_from, rcpt_tos). A recipient starting with "nobody@" is refused with
550, as a server refuses an unknown mailbox. Prints "READY <port>" once it listens, and stops
when its standard input closes.
"""

import argparse
import json
import logging
import os
import socket
import ssl
import sys
import threading
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Store:
    def __init__(self, out):
        self.out = out
        self.count = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("nobody@"):
            return f"550 5.1.1 <{address}>: no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            stem = os.path.join(self.out, f"{self.count:03}")
        with open(stem + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
        # The .eml last: the test counts .eml files, so the envelope is there by then.
        with open(stem + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(stem + ".eml.tmp", stem + ".eml")
        return "250 2.0.0 queued as " + os.path.basename(stem)


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        return AuthResult(success=ok, handled=False)

    return check


def free_port():
    # aiosmtpd's Controller checks readiness by connecting to its port, so it cannot take 0.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["starttls", "smtps"], required=True)
    for a in ("--cert", "--key", "--dir", "--user", "--password"):
        p.add_argument(a, required=True)
    args = p.parse_args()
    # The smtps setup below draws warnings meant for plain-text servers, and aiosmtpd warns of
    # its own deprecations: the test's output is kept to what goes wrong.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    common = dict(
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator(args.user, args.password),
        auth_required=True,
    )
    if args.mode == "starttls":
        controller = Controller(
            Store(args.dir), tls_context=ctx, require_starttls=True, **common
        )
    else:
        # aiosmtpd counts only STARTTLS as TLS when it offers AUTH: this connection is TLS
        # from the first byte, so AUTH is offered without it.
        controller = Controller(
            Store(args.dir), ssl_context=ctx, auth_require_tls=False, **common
        )
    controller.start()
    print(f"READY {controller.port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
