"""Progress of a long import or export: a bar on a terminal, plain lines in a log."""

import io

from tqdm import tqdm

from app.bulk.progress import PlainProgress, for_stream


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class TestProgress:
    def test_a_terminal_gets_a_bar_with_rows_rate_and_time_left(self) -> None:
        out = Terminal()
        bar = for_stream(out)("importing", 1000)
        assert isinstance(bar, tqdm)
        bar.update(500)
        bar.close()
        shown = out.getvalue()
        assert "importing" in shown
        assert "500/1.00k" in shown
        assert "rows/s" in shown

    def test_a_log_gets_a_line_every_tenth_and_one_at_the_end(self) -> None:
        out = io.StringIO()
        progress = for_stream(out)("importing", 100)
        assert isinstance(progress, PlainProgress)
        for _ in range(100):
            progress.update(1)
        progress.close()
        lines = out.getvalue().splitlines()
        assert len(lines) == 10
        assert lines[0].startswith("importing: 10/100 rows (10%), ")
        assert "s left" in lines[0]
        assert lines[-1].startswith("importing: 100/100 rows (100%), ")
        assert "\r" not in out.getvalue()
