"""The wait's poll cadence (WaitPolicy.next_interval): jitter against lockstep that never delays a poll."""

from __future__ import annotations

import random

import pytest

from airflow_provider_jobs.core.wait import WaitPolicy


@pytest.mark.parametrize("seed", range(5))
def test_a_poll_is_never_later_than_its_interval_and_at_most_a_tenth_early(seed):
    rng = random.Random(seed)
    for _ in range(500):
        poll = rng.uniform(0.1, 3600)
        ceiling = rng.choice([None, rng.uniform(0.1, 7200)])
        polls, eta = rng.randrange(0, 10_000), rng.choice([None, rng.uniform(0, 10_000)])
        unjittered = WaitPolicy(poll_interval=poll, max_poll_interval=ceiling, jitter=0.0).next_interval(polls, eta)

        gap = WaitPolicy(poll_interval=poll, max_poll_interval=ceiling).next_interval(polls, eta)

        assert unjittered * 0.9 - 1e-9 <= gap <= unjittered, (poll, ceiling, polls, eta)


def test_the_gaps_differ_so_waits_started_together_drift_apart():
    policy = WaitPolicy(poll_interval=30.0)
    gaps = {policy.next_interval(1, None) for _ in range(50)}
    assert len(gaps) > 1
    assert all(27.0 <= g <= 30.0 for g in gaps)
