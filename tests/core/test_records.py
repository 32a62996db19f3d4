"""quick_init: a frozen dataclass built through its __dict__ behaves as the generated __init__ made it."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle

import pytest

from airflow_provider_jobs.core.http import ApiRequest, Sleep, Transmit
from airflow_provider_jobs.core.records import quick_init
from airflow_provider_jobs.core.runs import JobRun, JobState


def _record_class():
    """A frozen dataclass with every kind of field quick_init handles, and a __post_init__."""

    @dataclasses.dataclass(frozen=True)
    class Record:
        name: str
        count: int = 1
        tags: list[str] = dataclasses.field(default_factory=list)
        derived: str = dataclasses.field(init=False, default="")
        later: dict[str, int] = dataclasses.field(init=False, default_factory=dict)
        flag: bool = dataclasses.field(kw_only=True, default=False)

        def __post_init__(self) -> None:
            self.__dict__["derived"] = f"{self.name}:{self.count}"

    return Record


CALLS = [
    (("a",), {}),
    (("a", 2), {}),
    (("a", 2, ["x"]), {}),
    ((), {"name": "b", "tags": ["y"], "flag": True}),
    (("c",), {"count": 0, "flag": False}),
]


@pytest.mark.parametrize(("args", "kwargs"), CALLS)
def test_the_quick_init_builds_what_the_generated_one_builds(args, kwargs):
    generated, quick = _record_class(), quick_init(_record_class())
    want, got = generated(*args, **kwargs), quick(*args, **kwargs)
    assert got.__dict__ == want.__dict__
    assert repr(got).split("(", 1)[1] == repr(want).split("(", 1)[1]
    assert str(inspect.signature(quick)) == str(inspect.signature(generated))


@pytest.mark.parametrize(("args", "kwargs"), [((), {}), (("a", 1, [], "extra"), {}), (("a",), {"nope": 1}),
                                              (("a",), {"name": "twice"}), (("a", 1, [], True), {})])
def test_a_wrong_call_is_refused_as_the_generated_init_refuses_it(args, kwargs):
    generated, quick = _record_class(), quick_init(_record_class())
    with pytest.raises(TypeError):
        generated(*args, **kwargs)
    with pytest.raises(TypeError):
        quick(*args, **kwargs)


def test_each_instance_gets_its_own_default_from_the_factory_and_stays_frozen():
    quick = quick_init(_record_class())
    one, two = quick("a"), quick("b")
    assert one.tags == [] and one.tags is not two.tags and one.later is not two.later
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.name = "changed"
    assert dataclasses.replace(one, count=5).derived == "a:5"


def test_classes_it_cannot_serve_are_refused():
    @dataclasses.dataclass
    class Mutable:
        x: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Slotted:
        x: int

    with pytest.raises(TypeError, match="not frozen"):
        quick_init(Mutable)
    with pytest.raises(TypeError, match="__slots__"):
        quick_init(Slotted)


def test_the_per_poll_records_keep_their_behaviour():
    run = JobRun("v", 7, 8, "RUNNING", progress=150, started_at="2026-01-02T03:04:05")
    assert (run.job_id, run.run_id, run.state, run.progress) == ("7", "8", JobState.RUNNING, 100.0)
    assert run.started_at == "2026-01-02T03:04:05+00:00"  # __post_init__ still normalises
    assert run.details == {} and run.details is not JobRun("v", "j", None, JobState.QUEUED).details
    assert pickle.loads(pickle.dumps(run)) == run == copy.deepcopy(run)
    assert hash(Sleep(1.5)) == hash(Sleep(1.5))
    request = ApiRequest("GET", "/jobs", params={"a": 1})
    assert request.headers == {} and request.label == "GET /jobs"
    wire = Transmit("GET", "http://h/jobs", None, {}, None, None, 5.0, "json", None, origin=request)
    assert wire.max_bytes == 0 and wire.origin is request
