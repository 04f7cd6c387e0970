"""Bulk import and export: rows per second on each database, and the export's peak memory at
two sizes (it streams: the peak should not grow with the rows).

Per size and run: a new database with the small Chain and the generator's organisations, the
generator's CSV loaded by `admission import cases`, then `admission export cases --output`.
"""

from bench import dataset, generate_cases, servers
from bench.common import Bench
from bench.scale import import_available, organisations

TITLE = "Bulk import and export ({backend})"
NOTE = (
    "Wall time of the whole command (start-up included), as rows per second; peak RSS of the "
    "`admission` process (wait4)."
)
FORMATS = {"import MB": "{:,.0f}", "export MB": "{:,.0f}"}


def run(bench: Bench, backend: str) -> None:
    title = TITLE.format(backend=backend)
    table = bench.report.table(title, NOTE, FORMATS)
    if not import_available():
        bench.report.remark(title, "import, export", "skipped: `admission import` is not available")
        return
    for n in bench.options.bulk_sizes:
        row = f"{n:,} rows"
        for k in range(bench.options.runs):
            print(f"  {backend} bulk, {row}, run {k + 1}/{bench.options.runs}", flush=True)
            url, storage = bench.database(backend, f"bulk{n}")
            dataset.fresh(url, storage)
            organisations(url, storage)
            source = generate_cases.write_file(storage.parent / "cases.csv", n)
            imported = servers.admission(url, storage, "import", "cases", str(source))
            if imported.returncode != 0:
                bench.report.remark(title, row, f"import failed: {imported.stderr[-300:]}")
                break
            table.add(row, "import rows/s", n / imported.seconds)
            table.add(row, "import MB", imported.peak_rss_mb)
            target = storage.parent / "export.csv"
            exported = servers.admission(url, storage, "export", "cases", "--output", str(target))
            if exported.returncode != 0:
                bench.report.remark(title, row, f"export failed: {exported.stderr[-300:]}")
                break
            table.add(row, "export rows/s", n / exported.seconds)
            table.add(row, "export MB", exported.peak_rss_mb)
