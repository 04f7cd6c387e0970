"""The benchmark harness's own arithmetic (bench/): no timings are asserted, only that what
wrk prints is read right and that runs fold into median and min–max."""

from bench.httpload import parse_wrk
from bench.report import Table, markdown_table

WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:41234/healthz
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     8.91ms    4.02ms  61.20ms   88.12%
    Req/Sec     0.91k   102.33     1.11k    70.00%
  Latency Distribution
     50%    8.10ms
     75%   10.02ms
     90%   12.91ms
     99%    1.20s
  5432 requests in 3.01s, 0.81MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   1804.65
Transfer/sec:    275.03KB
"""


class TestWrkOutput:
    def test_rate_percentiles_and_failures_are_read_with_their_units(self) -> None:
        load = parse_wrk(WRK_OUTPUT)
        assert load.requests == 5432
        assert load.seconds == 3.01
        assert load.p50_ms == 8.1
        assert load.p99_ms == 1200.0
        assert load.errors == 7


class TestTable:
    def test_a_cell_is_the_median_of_the_runs_with_their_range(self) -> None:
        table = Table("t")
        for value in (30.0, 10.0, 20.0):
            table.add("row", "req/s", value)
        assert table.cell("row", "req/s") == "20 (10–30)"
        assert "| row | 20 (10–30) |" in markdown_table(table)
