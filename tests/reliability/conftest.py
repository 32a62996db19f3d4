"""The reliability report: published by `make reliability-report`, checked by every complete run."""

from __future__ import annotations

import pytest

from tests.reliability import report


@pytest.fixture(scope="session", autouse=True)
def reliability_report():
    yield
    from tests.reliability.profiles import PROFILES
    from tests.reliability.test_fault_matrix import SCENARIOS

    stale = report.publish_or_check(SCENARIOS, [p.vendor for p in PROFILES])
    if stale:
        pytest.fail(stale, pytrace=False)
