"""Progress of long command-line work: a bar on a terminal, plain lines in a log."""

import sys
import time
from typing import TextIO

from tqdm import tqdm

from app.bulk.service import Progress, ProgressFactory


class PlainProgress:
    """One line now and then (every tenth of the work, or every 10 seconds at most), then one
    at the end: readable in a log file or a CI job, where a redrawn bar is noise."""

    def __init__(self, label: str, total: int | None, stream: TextIO, every: float = 10.0) -> None:
        self.label = label
        self.total = total
        self.stream = stream
        self.every = every
        self.done = 0
        self.started = self.last = time.monotonic()
        self.step = max(total // 10, 1) if total else None
        self.next_at = self.step

    def update(self, n: int) -> None:
        self.done += n
        if self.total is not None and self.done >= self.total:
            return  # `close` says it
        now = time.monotonic()
        due = self.next_at is not None and self.done >= self.next_at
        if due or now - self.last >= self.every:
            self._line(now)
            if self.step is not None:
                while self.next_at is not None and self.next_at <= self.done:
                    self.next_at += self.step

    def close(self) -> None:
        self._line(time.monotonic(), final=True)

    def _line(self, now: float, *, final: bool = False) -> None:
        self.last = now
        elapsed = now - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        parts = [f"{self.label}: {self.done:,}"]
        if self.total:
            parts[0] += f"/{self.total:,} rows ({100 * self.done / self.total:.0f}%)"
        else:
            parts[0] += " rows"
        parts.append(f"{rate:,.0f} rows/s")
        if final:
            parts.append(f"{elapsed:.1f} s")
        elif self.total and rate > 0:
            parts.append(f"about {max(self.total - self.done, 0) / rate:.0f} s left")
        print(", ".join(parts), file=self.stream, flush=True)


def for_stream(stream: TextIO | None = None) -> ProgressFactory:
    """A bar (rows, rate, time left) when `stream` is a terminal; plain lines otherwise."""
    out = stream or sys.stderr

    def make(label: str, total: int | None) -> Progress:
        if out.isatty():
            bar: Progress = tqdm(
                total=total, desc=label, unit=" rows", unit_scale=True, file=out, leave=True
            )
            return bar
        return PlainProgress(label, total, out)

    return make
