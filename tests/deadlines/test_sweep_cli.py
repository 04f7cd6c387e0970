"""`admission sweep` on the demo Chain, run as a user would."""

from tests.commands import Cli


class TestSweepCommand:
    def test_the_demo_s_overdue_case_and_consultations_are_announced_once(self, cli: Cli) -> None:
        cli.ok("seed", "--demo")
        # The Military Software Park and its two unanswered consultations (MOF, MOD).
        assert cli.ok("sweep") == ["1 cases and 2 consultations newly overdue announced"]
        assert cli.ok("sweep") == ["0 cases and 0 consultations newly overdue announced"]
