"""``benchmarks.reports`` at a small size: the seeder writes a consistent company (its
foreign keys are checked by the benchmark itself) and the run ends with one JSON line
holding every report's two timings. The figures at a million work orders are the
benchmark's to measure, not the test's."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks import reports
from dispatch_app.domain.reports import ReportName

SMALL = 2000


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Runs the benchmark's ``main`` with arguments; returns its printed lines."""
    terminate = signal.getsignal(signal.SIGTERM)

    def run(*argv: str) -> list[str]:
        reports.main(list(argv))
        return capsys.readouterr().out.splitlines()

    try:
        yield run
    finally:
        signal.signal(signal.SIGTERM, terminate)


def test_the_seeder_writes_three_years_of_a_company(run: Any) -> None:
    lines = run("--work-orders", str(SMALL), "--seed-only")
    shape = json.loads(lines[-1])
    assert shape["work_orders"] == SMALL
    assert shape["technicians"] == 150
    assert shape["job_types"] == 40
    # Every kind of row a report reads is there.
    for table in (
        "visits",
        "visit_technicians",
        "time_entries",
        "status_history",
        "line_items",
        "invoices",
        "invoice_lines",
        "payments",
        "leads",
        "follow_ups",
    ):
        assert shape[table] > 0, table
    assert shape["status_history"] > 3 * SMALL


@pytest.mark.slow
def test_the_last_line_holds_every_report_in_both_ranges(run: Any) -> None:
    engine = pytest.importorskip("dispatch_app.services.reports")
    if not hasattr(engine, "run_report"):
        pytest.skip("the report engine (services.reports.run_report) is not there yet")
    lines = run("--work-orders", str(SMALL), "--runs", "1")
    figures = json.loads(lines[-1])
    assert figures["work_orders"] == SMALL
    assert "errors" not in figures, figures.get("errors")
    for name in ReportName:
        timings = figures[name.value]
        assert set(timings) == {"30d_ms", "365d_ms"}
        assert all(isinstance(ms, float) and ms > 0 for ms in timings.values()), name
    assert figures["max_30d_ms"] == max(figures[n.value]["30d_ms"] for n in ReportName)
    assert figures["max_365d_ms"] == max(figures[n.value]["365d_ms"] for n in ReportName)
    assert isinstance(figures["over_goal"], list)
