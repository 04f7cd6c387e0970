"""Response bodies kept by a key that names exactly one body, so a repeated read costs no
rebuilding.

The key is derived from what the body shows, read from the database on every request (the
pipeline's tag, a case's version and the day), so a kept body is never stale, whichever
process or host made the change. Each body is bounded, and so is the number kept.
"""

import threading
from collections import OrderedDict


class BodyCache:
    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        with self._lock:
            self._bodies[key] = body
            self._bodies.move_to_end(key)
            while len(self._bodies) > self.size:
                self._bodies.popitem(last=False)
