from __future__ import annotations

from pathlib import Path

import pytest

from bench import cpu, load, operations, report, subscribers
from bench.run import main

WRK_OUTPUT = """\
Running 3s test @ http://127.0.0.1:8123/graphql
  2 threads and 16 connections
TRACKQL_RESULT {"requests": 6000, "duration_us": 3000000, "p50_us": 4200.0, \
"p99_us": 15500.5, "failed": 3, "socket_errors": 2, "sample": "{\\"errors\\": []}"}
"""


def test_reads_rate_latency_and_every_kind_of_error_from_the_wrk_script() -> None:
    measured = load.parse(WRK_OUTPUT)

    assert measured.per_second == 2000
    assert (measured.p50_ms, measured.p99_ms) == (4.2, 15.5005)
    assert measured.errors == 5
    assert measured.sample == '{"errors": []}'


def test_a_failed_answer_is_summed_up_as_its_first_code_and_message() -> None:
    answer = (
        '{"data":null,"errors":[{"message":"the database is unavailable",'
        '"locations":[{"line":2,"column":3}],"path":["login"],"extensions":{"co'
    )
    coded = answer.replace('"co', '"code":"SERVICE_UNAVAILABLE"}}]}')

    assert load.describe(answer) == "ERROR: the database is unavailable"
    assert load.describe(coded) == "SERVICE_UNAVAILABLE: the database is unavailable"


def test_wrk_output_without_a_result_line_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no result line"):
        load.parse("unable to connect to 127.0.0.1:8123 Connection refused\n")


def test_an_unavailable_operation_is_a_row_that_says_why() -> None:
    section = report.Section(
        "SQLite 3.40.1",
        1,
        rows=[report.Row("S1", "taskEvents", note="not available: not built yet")],
    )

    markdown = report.render(["header"], [section])

    assert "## SQLite 3.40.1, 1 worker" in markdown
    assert "| S1 | taskEvents | - | - |" in markdown
    assert markdown.rstrip().endswith("not available: not built yet |")


def test_a_measured_row_shows_rate_latency_ratio_and_errors() -> None:
    row = report.Row("Q1", "user(id:)", 16, 1234.4, 4.0, 10.0, 0, 18_516, 2, 80.6)

    markdown = report.render([], [report.Section("PostgreSQL 15.4", 2, rows=[row])])

    assert (
        "| Q1 | user(id:) | 16 | 1,234 | 4.0 | 10.0 | 2.5 | 0 / 18,516 | 2 | 81 |  |"
        in (markdown)
    )


def test_unknown_operation_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="Q9"):
        operations.select("Q1,Q9")


def test_exits_non_zero_with_the_install_command_when_wrk_is_missing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    status = main(["--duration", "1"])

    assert status == 2
    assert "apt-get install -y wrk" in capsys.readouterr().err


def test_fan_out_latency_percentiles_come_from_every_delivery() -> None:
    latencies = [float(n) for n in range(1, 101)]

    fanout = subscribers.Fanout(
        subscribers=10, updates=10, latencies_ms=latencies, missing=0
    )

    assert fanout.p50_ms == 50.5
    assert fanout.p99_ms is not None
    assert 99 <= fanout.p99_ms <= 100
    assert subscribers.Fanout(10, 0, [], 0, "not available").p50_ms is None


def test_cpu_time_is_read_past_a_command_name_holding_parentheses() -> None:
    fields = ["S", "1", "7", "7", "0", "-1", "4194560", "9", "0", "0", "0"]
    stat = f"4242 (uvicorn (worker) 1) {' '.join(fields)} 350 120 0 0 20 0\n"

    assert cpu.parse_stat(stat) == cpu.Ticks(total=470, kernel=120)


def test_cpu_split_is_per_request_and_sums_every_process() -> None:
    hz = cpu.TICKS_PER_SECOND
    measured = load.Load(
        requests=2_000, seconds=10, p50_ms=1, p99_ms=2, errors=0, sample=""
    )

    found = cpu.split("Q1", measured, cpu.Ticks(hz, hz // 5), cpu.Ticks(hz // 4), 0.1)

    assert (found.workers_us, found.workers_kernel_us) == (500, 100)
    assert (found.postgres_us, found.wrk_us, found.total_us) == (125, 50, 675)
    assert "| Q1 | 200 | 0 | 500 (100) | 125 | 50 | 675 |" in cpu.render([found])


def test_cpu_bodies_are_the_fixed_costs_and_the_reads_only() -> None:
    assert list(cpu.request_bodies("fixed, check,q1")) == ["fixed", "check", "Q1"]
    with pytest.raises(ValueError, match="M1 is not a read"):
        cpu.request_bodies("Q1,M1")
    with pytest.raises(ValueError, match="Q9"):
        cpu.request_bodies("Q9")
