"""A webhook receiver for the tests, run as its own process on a loopback port.

    python tests/webhooks/receiver.py --port P --log FILE --secret whsec_... --mode alternate

(`--secret` may be given several times, one per subscription sending to it.)

It records every request as one JSON line in the log — the `webhook-id`, whether the
signature is valid, the status it is about to answer, its process id — and flushes the line
*before* answering, so a record survives the process being killed mid-answer. Modes: `never`
fails, `always` fails (500 every time), `alternate` fails every other request (the first
succeeds). The signature is checked here from first principles (HMAC-SHA256 over
"<id>.<timestamp>.<body>" with the base64-decoded `whsec_` key), not with the service's own
helper, so that the two are checked against each other. Prints "ready" once listening.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def valid_signature(secrets: list[str], headers: Any, body: bytes) -> bool:
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    offered = headers.get("webhook-signature", "").split()
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        digest = hmac.new(key, signed, hashlib.sha256).digest()
        expected = "v1," + base64.b64encode(digest).decode()
        if any(hmac.compare_digest(s, expected) for s in offered):
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--secret", action="append", required=True)
    parser.add_argument("--mode", choices=("never", "always", "alternate"), default="never")
    args = parser.parse_args()

    lock = threading.Lock()
    log = open(args.log, "a", encoding="utf-8")  # noqa: SIM115 - open for the process's life
    seen = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - the name http.server looks for
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with lock:
                n = seen[0]
                seen[0] += 1
                fail = args.mode == "always" or (args.mode == "alternate" and n % 2 == 1)
                status = 500 if fail else 200
                try:
                    event = json.loads(body)
                except ValueError:
                    event = {}
                record = {
                    "pid": os.getpid(),
                    "n": n,
                    "path": self.path,
                    "host": self.headers.get("host"),
                    "id": self.headers.get("webhook-id"),
                    "timestamp": self.headers.get("webhook-timestamp"),
                    "valid": valid_signature(args.secret, self.headers, body),
                    "status": status,
                    "content_type": self.headers.get("content-type"),
                    "body_sha256": hashlib.sha256(body).hexdigest(),
                    "event": event,
                }
                log.write(json.dumps(record) + "\n")
                log.flush()
            answer = b"ok" if status == 200 else b"try again later"
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            # A client closing its connection is ordinary; anything else is worth a trace.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", args.port), Handler)
    print("ready", flush=True)
    try:
        server.serve_forever()
    finally:
        sys.stdout.flush()


if __name__ == "__main__":
    main()
