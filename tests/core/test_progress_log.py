"""The progress-log throttle (issue 20 item 3): at most one progress line per run per 25% step AND per interval,
every state change logged. Driven with a fake clock: no sleeps, no timing."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_jobs.core.runs import JobRun, JobState
from airflow_provider_jobs.core.trigger import JobRunTrigger
from airflow_provider_jobs.core.wait import PROGRESS_LOG_INTERVAL, log_progress
from airflow_provider_jobs.operators.nexus_ic import NexusICRunReportOperator


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def lines(request):
    logger = logging.getLogger(f"test_progress_log.{request.node.name}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    handler = Lines()
    logger.addHandler(handler)
    handler.logger = logger
    return handler


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(progress: float | None, state: JobState = JobState.RUNNING, word: str = "Running", run_id: str = "1") -> JobRun:
    return JobRun("v", "j", run_id, state, vendor_state=word, progress=progress)


def poll_every(report, clock: Clock, seconds: float, progresses: list[float], run_id: str = "1") -> None:
    """One poll per `seconds` of the fake clock, the run reporting each progress in turn."""
    previous = run(0.0, run_id=run_id)
    for p in progresses:
        clock.now += seconds
        fresh = run(p, run_id=run_id)
        report(fresh, previous)
        previous = fresh


def test_fast_progress_is_logged_once_a_minute_at_most(lines):
    clock = Clock()
    report = log_progress(lines.logger, clock=clock)
    # a run that goes 0 -> 100% in 5 s, polled every second: every step crossed within the first minute
    poll_every(report, clock, 1.0, [10, 30, 55, 80, 99])
    assert lines.lines == []


def test_slow_progress_is_logged_once_per_25_percent_at_most(lines):
    clock = Clock()
    report = log_progress(lines.logger, clock=clock)
    # 1% per poll, one poll every 10 s: 100 polls over ~17 minutes, a 25% step every ~4 minutes
    poll_every(report, clock, 10.0, [float(p) for p in range(1, 100)])
    assert [line.rsplit(", ", 1)[1] for line in lines.lines] == ["25% complete", "50% complete", "75% complete"]


def test_the_rarer_of_the_two_limits_wins(lines):
    clock = Clock()
    report = log_progress(lines.logger, clock=clock)
    # 25% every 30 s: each step is crossed, but only every other one a minute after the last line
    poll_every(report, clock, 30.0, [25, 50, 75, 99])
    assert [line.rsplit(", ", 1)[1] for line in lines.lines] == ["50% complete", "99% complete"]


def test_every_state_change_is_logged_and_the_final_one_left_to_the_event(lines):
    clock = Clock()
    report = log_progress(lines.logger, final=False, clock=clock)
    queued = JobRun("v", "j", "1", JobState.QUEUED, vendor_state="Queued")
    running = run(5.0)
    report(running, queued)  # state change: logged at once, whatever the clock
    report(run(5.0, word="Running (step 2)"), running)  # the vendor's word changed: logged too
    report(run(100.0, JobState.SUCCESS, "Completed"), running)  # the trigger's event carries the final state
    assert lines.lines == ["v job 'j' run 1 is RUNNING, 5% complete",
                           "v job 'j' run 1 is RUNNING (Running (step 2)), 5% complete"]
    report = log_progress(lines.logger, final=True, clock=clock)
    report(run(100.0, JobState.SUCCESS, "Completed"), running)
    assert lines.lines[-1] == "v job 'j' run 1 is SUCCESS (Completed), 100% complete"


def test_each_run_of_a_wait_has_its_own_throttle(lines):
    clock = Clock()
    report = log_progress(lines.logger, clock=clock)
    a, b = run(0.0, run_id="a"), run(0.0, run_id="b")
    clock.now += 61
    report(run(30.0, run_id="a"), a)
    report(run(30.0, run_id="b"), b)
    clock.now += 1
    report(run(60.0, run_id="a"), run(30.0, run_id="a"))  # a logged a second ago
    assert [line.split(" is ")[0][-1] for line in lines.lines] == ["a", "b"]


def test_interval_zero_logs_each_step_and_none_logs_no_progress(lines):
    clock = Clock()
    poll_every(log_progress(lines.logger, interval=0, clock=clock), clock, 1.0, [10, 30, 55, 60, 80, 99])
    assert [line.rsplit(", ", 1)[1] for line in lines.lines] == ["30% complete", "55% complete", "80% complete"]
    lines.lines.clear()
    silent = log_progress(lines.logger, interval=None, clock=clock)
    poll_every(silent, clock, 100.0, [30, 60, 90])
    silent(run(90.0, JobState.QUEUED, "Paused"), run(90.0))  # a state change is still logged
    assert lines.lines == ["v job 'j' run 1 is QUEUED (Paused), 90% complete"]


def test_the_setting_travels_from_the_operator_through_the_trigger_kwargs():
    default = NexusICRunReportOperator(task_id="a", template_id=1)
    assert default.progress_log_interval == PROGRESS_LOG_INTERVAL == 60.0
    op = NexusICRunReportOperator(task_id="b", template_id=1, progress_log_interval=300)
    trigger = op.make_trigger([run(None)], None)
    _, kwargs = trigger.serialize()
    assert kwargs["progress_log_interval"] == 300.0
    assert JobRunTrigger(**kwargs).progress_log_interval == 300.0
    # a trigger serialized before the setting existed gets the default
    del kwargs["progress_log_interval"]
    assert JobRunTrigger(**kwargs).progress_log_interval == PROGRESS_LOG_INTERVAL
    assert NexusICRunReportOperator(task_id="c", template_id=1, progress_log_interval=0).progress_log_interval == 0
    assert NexusICRunReportOperator(task_id="d", template_id=1, progress_log_interval=None).progress_log_interval \
        is None


@pytest.mark.parametrize("bad", [-1, "60", True])
def test_a_bad_setting_names_the_field(bad):
    from airflow_provider_jobs.core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="progress_log_interval"):
        NexusICRunReportOperator(task_id="x", template_id=1, progress_log_interval=bad)
