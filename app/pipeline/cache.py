"""Pipeline bodies kept by their ETag, so that a repeated read costs no rebuilding.

A tag names exactly one body (it is derived from everything the body shows, see
`service.tag`), and it is read from the database on every request, so a kept body is never
stale, whichever process or host changed a case. Bodies are bounded (one page each), and so is
the number kept.
"""

import threading
from collections import OrderedDict


class BodyCache:
    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, tag: str) -> bytes | None:
        with self._lock:
            body = self._bodies.get(tag)
            if body is not None:
                self._bodies.move_to_end(tag)
            return body

    def put(self, tag: str, body: bytes) -> None:
        with self._lock:
            self._bodies[tag] = body
            self._bodies.move_to_end(tag)
            while len(self._bodies) > self.size:
                self._bodies.popitem(last=False)
