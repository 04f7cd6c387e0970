"""Case figures for `/metrics`, read from the database at scrape time (right across processes)."""

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from app.cases.models import Case
from app.context import AppContext
from app.core.db import unit_of_work


class CaseFigures(Collector):
    """Cases by state and overdue cases, from the database (right across API processes)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterable[GaugeMetricFamily]:
        by_state = GaugeMetricFamily(
            "admission_cases", "Cases by current state.", labels=("workflow", "state")
        )
        overdue = GaugeMetricFamily(
            "admission_cases_overdue", "Cases past their due date, by state.", labels=("state",)
        )
        today = self.ctx.today()
        with unit_of_work(self.ctx.engine, write=False) as session:
            for workflow, state, n in session.execute(
                select(Case.workflow_key, Case.state, func.count()).group_by(
                    Case.workflow_key, Case.state
                )
            ):
                by_state.add_metric((workflow, state), int(n))
            for state, n in session.execute(
                select(Case.state, func.count()).where(Case.due_at < today).group_by(Case.state)
            ):
                overdue.add_metric((state,), int(n))
        yield by_state
        yield overdue
