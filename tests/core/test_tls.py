"""TLS: verification on by default; a CA bundle or verify_ssl=false only when the connection says so."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from airflow_provider_jobs.core.errors import ApiError
from airflow_provider_jobs.hooks.spectrum import SpectrumHook
from airflow_provider_jobs.sandbox import Sandbox
from tests.support import captured_logs, use_connection


@pytest.fixture(scope="module")
def tls_sandbox(tmp_path_factory):
    """A sandbox served over https with a self-signed certificate for 127.0.0.1."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "apj-sandbox")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    with Sandbox(ssl_context=context) as sandbox:
        sandbox.ca_path = str(cert_path)
        yield sandbox


def test_untrusted_certificate_fails_clearly_without_retrying(tls_sandbox, monkeypatch):
    use_connection(monkeypatch, tls_sandbox, "spectrum")
    for call in (lambda h: h.list_running(), lambda h: asyncio.run(h.alist_running())):
        tls_sandbox.reset()
        with pytest.raises(ApiError, match="not trusted.*verify_ssl"):
            call(SpectrumHook())
        assert tls_sandbox.requests("spectrum") == []  # the handshake failed: no request was served


def test_ca_bundle_from_the_connection_is_used(tls_sandbox, monkeypatch):
    use_connection(monkeypatch, tls_sandbox, "spectrum", extra={"verify_ssl": tls_sandbox.ca_path})
    assert SpectrumHook().list_running() == []
    assert asyncio.run(SpectrumHook().alist_running()) == []


@pytest.mark.parametrize("verify_ssl", [None, True, "true"])
def test_ca_bundle_from_its_own_form_field_is_used(tls_sandbox, monkeypatch, verify_ssl):
    """The form's boolean "Verify TLS certificate" with its "CA bundle path" field beside it."""
    extra = {"ca_bundle": tls_sandbox.ca_path, **({} if verify_ssl is None else {"verify_ssl": verify_ssl})}
    use_connection(monkeypatch, tls_sandbox, "spectrum", extra=extra)
    assert SpectrumHook().list_running() == []
    assert asyncio.run(SpectrumHook().alist_running()) == []


def test_verification_off_only_when_asked_and_logged(tls_sandbox, monkeypatch):
    use_connection(monkeypatch, tls_sandbox, "spectrum", extra={"verify_ssl": "false"})
    with captured_logs() as logs:
        assert SpectrumHook().list_running() == []
    assert any("TLS certificate verification is OFF for connection 'spectrum_default'" in m for m in logs.records)
