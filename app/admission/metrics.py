"""The admission's process counters, in the process registry that /metrics exposes."""

from prometheus_client import Counter

from app.core.metrics import PROCESS

TRANSITIONS = Counter(
    "admission_transitions",
    "Committed case transitions, by action.",
    ("action",),
    registry=PROCESS,
)
