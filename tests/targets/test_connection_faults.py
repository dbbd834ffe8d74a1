"""Test connection: what an operator sees for each fault, one line each, and nothing lost (issue 14)."""

import socket
import threading

import pytest

from core.models import AuditEvent
from targets.models import Target
from targets.services import target_test
from tests.servers import free_port
from tests.targets.tls import TlsCluster

pytestmark = pytest.mark.slow


def register(name, password=TlsCluster.PASSWORD, **fields):
    target = Target(name=name, dbname=fields.pop("dbname", "postgres"), user=fields.pop("user", "postgres"),
                    **{"host": "localhost", "sslmode": "prefer", **fields})
    target.password = password
    target.save()
    return target


def outcome(name):
    result = target_test(name)
    assert Target.objects.filter(name=name).exists() or name == "default"  # nothing lost
    event = AuditEvent.objects.filter(action="target.test", target=name).latest("id")
    assert event.details["ok"] is result.ok and TlsCluster.PASSWORD not in str(event.details)
    if not result.ok:
        assert result.error and "\n" not in result.error
    return result


def test_default_target_answers_with_version_and_privileges(db):
    result = outcome("default")
    assert result.ok and result.server_version and result.latency_ms is not None
    assert result.tls_in_use is False  # the embedded server: a Unix socket


def test_a_tls_target_with_verify_full_reports_tls_and_privileges(db, cluster):
    register("tls-ok", port=cluster.port, sslmode="verify-full", sslrootcert=str(cluster.good_root))
    result = outcome("tls-ok")
    assert result.ok and result.tls_in_use is True and result.tls_version.startswith("TLS")
    assert "superuser" in result.privileges and result.server_version[:2].isdigit()


def test_a_root_that_did_not_sign_the_certificate_is_refused(db, cluster):
    register("tls-wrong-root", port=cluster.port, sslmode="verify-full", sslrootcert=str(cluster.wrong_root))
    result = outcome("tls-wrong-root")
    assert not result.ok and "TLS certificate" in result.error and "not trusted" in result.error


def test_wrong_password(db, cluster):
    register("bad-pw", password="not-the-password", port=cluster.port)
    result = outcome("bad-pw")
    assert not result.ok and result.error.startswith("wrong password for user 'postgres'")
    assert "not-the-password" not in result.error


def test_missing_database(db, cluster):
    register("no-db", port=cluster.port, dbname="nope")
    result = outcome("no-db")
    assert not result.ok and 'database "nope" does not exist' in result.error


def test_dns_failure(db):
    register("dns", host="no-such-host.invalid", port=5432)
    result = outcome("dns")
    assert not result.ok and result.error == "DNS failure: host 'no-such-host.invalid' does not resolve"


def test_wrong_host_port_refuses(db):
    port = free_port()
    register("refused", host="127.0.0.1", port=port)
    result = outcome("refused")
    assert not result.ok and result.error == f"nothing accepts connections on 127.0.0.1:{port} (connection refused)"


def test_a_port_that_never_answers_times_out(db, settings):
    settings.TARGETS_CONNECT_TIMEOUT = 2
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts the TCP handshake, never speaks PostgreSQL
    accepted = []
    stop = threading.Event()

    def hold():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        register("silent", host="127.0.0.1", port=listener.getsockname()[1])
        result = outcome("silent")
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()
    assert not result.ok and result.error.startswith("no answer from 127.0.0.1:") and "within 2 s" in result.error


def pg15_answers():
    try:
        socket.create_connection(("127.0.0.1", 5432), 2).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not pg15_answers(), reason="no PostgreSQL 15 service at 127.0.0.1:5432")
def test_tls_required_but_the_server_offers_none(db):
    register("no-tls", host="127.0.0.1", port=5432, sslmode="require", password="")
    result = outcome("no-tls")
    assert not result.ok and "does not offer TLS, but sslmode=require requires it" in result.error


def test_setup_query_role_on_a_target_uses_its_credential_over_tls(db, cluster, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.QUERY_ROLE_PASSWORD = "query-role-pw"
    register("roles", port=cluster.port, sslmode="verify-full", sslrootcert=str(cluster.good_root))
    out = StringIO()
    call_command("setup_query_role", target="roles", stdout=out)
    assert f"read role '{settings.QUERY_ROLE}' logs in and is least-privilege" in out.getvalue()
    call_command("setup_query_role", target="roles", check=True, stdout=StringIO())
    register("roles-bad-pw", password="nope", port=cluster.port)
    with pytest.raises(CommandError, match="wrong password for user 'postgres'"):
        call_command("setup_query_role", target="roles-bad-pw")
    with pytest.raises(CommandError, match="no target named 'missing'"):
        call_command("setup_query_role", target="missing")
