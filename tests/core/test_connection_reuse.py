"""Thousands of hooks on one connection: extras parsed once per Connection object, secrets registered once,
and neither cache hides a change or a reset masker."""

from __future__ import annotations

import json

from airflow_provider_jobs.core import compat
from airflow_provider_jobs.core.hook import ConnectionSettings

try:
    from airflow.sdk import Connection
except ImportError:  # Airflow 2
    from airflow.models.connection import Connection


def test_extras_parsed_once_per_connection_object_and_again_when_they_change():
    conn = Connection(conn_id="c1", conn_type="http", host="h", extra=json.dumps({"api_version": "v1"}))
    first, second = ConnectionSettings(conn, "http"), ConnectionSettings(conn, "http")
    assert first.extra is second.extra and first.text("api_version") == "v1"

    conn.extra = json.dumps({"api_version": "v2"})
    assert ConnectionSettings(conn, "http").text("api_version") == "v2"

    other = Connection(conn_id="c1", conn_type="http", host="h", extra=json.dumps({"api_version": "v3"}))
    assert ConnectionSettings(other, "http").text("api_version") == "v3"


def _masker():
    if compat.AIRFLOW_V3:
        from airflow.sdk.log import _secrets_masker
    else:
        from airflow.utils.log.secrets_masker import _secrets_masker
    return _secrets_masker()


def test_a_secret_is_registered_once_and_again_after_the_masker_was_reset(mocker):
    masker = _masker()
    secret = "s3cr3t@for!the-reuse test"  # characters re and re2 escape differently
    compat.mask_secret(secret)
    assert compat._already_masked(secret)

    add = mocker.spy(type(masker), "add_mask")
    compat.mask_secret(secret)
    assert add.call_count == 0  # known: not registered again

    saved = masker.patterns, masker.replacer
    try:
        masker.patterns, masker.replacer = set(), None  # as a masker reset between tasks leaves it
        assert not compat._already_masked(secret)
        compat.mask_secret(secret)
        assert add.call_count == 1
        assert secret not in str(masker.redact(f"token={secret}", name=None))
    finally:
        masker.patterns, masker.replacer = saved[0] | masker.patterns, saved[1]
