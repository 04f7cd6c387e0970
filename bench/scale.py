from bench.common import Bench


def run(bench: Bench, backend: str = "") -> None:
    pass
