"""Fleet overview: 20 targets (one down, one slow) vs 1 target, in one run (goal: ≤ 2× and p95 ≤ 1 s)."""

import os
import socket

from django.conf import settings
from django.db import connection
from django.test import Client

from bench.common import bench_database, summary, timed
from bench.report import write_section

TARGETS = 20
REPEAT = 40
WARMUP = 3
URL = "/admin/dbtools/monitoring/fleet/"
API_URL = "/api/v1/monitoring/fleet"


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once it is closed: connection refused


def register(silent_port):
    from targets.services import target_create

    fields = connection.settings_dict
    same = {"host": fields["HOST"], "port": int(fields["PORT"]), "dbname": fields["NAME"], "user": fields["USER"]}
    for n in range(TARGETS - 3):
        target_create(name=f"bench-{n:02d}", password=fields.get("PASSWORD") or "", **same)
    target_create(name="bench-down", host="127.0.0.1", port=_closed_port(), dbname="x", user="x", sslmode="disable")
    target_create(name="bench-slow", host="127.0.0.1", port=silent_port, dbname="x", user="x", sslmode="disable")


def _viewer(name, group=None):
    """A logged-in client of a viewer (the monitoring role); with `group`, one that is granted more targets."""
    from accounts.models import User

    user = User.objects.create_user(name, f"{name}@example.com", "bench-pass", role="viewer", is_staff=True)
    if group is not None:
        user.groups.add(group)
    client = Client()
    client.force_login(user)
    return client


def _grant_all(group):
    from targets.models import Target, TargetGrant

    TargetGrant.objects.bulk_create(TargetGrant(target=target, group=group, capability="monitor")
                                    for target in Target.objects.all())


def _admin_key_clients():
    """Two API clients of one admin: a key limited to "default", and a key for every target (same code path)."""
    from accounts.models import User
    from accounts.services import api_key_create

    admin = User.objects.create_superuser("bench-admin", "bench-admin@example.com", "bench-pass", role="admin")
    keys = [api_key_create(user=admin, name=name, targets=targets)[1]
            for name, targets in (("bench-one", ["default"]), ("bench-many", None))]
    return [Client(HTTP_AUTHORIZATION=f"Bearer {key}") for key in keys]


def _load(client, url=URL):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response


def _api_rows(client):
    return len(_load(client, API_URL).json()["targets"])


def measure_api(one, many):
    """The admin's figure: the API's fleet for a key limited to "default" vs a key for every target, interleaved."""
    for _ in range(WARMUP):
        _load(one, API_URL), _load(many, API_URL)
    times = {"one": [], "many": []}
    for n in range(REPEAT):
        for name in (("one", "many") if n % 2 == 0 else ("many", "one")):
            times[name] += timed(lambda name=name: _load(one if name == "one" else many, API_URL), 1)
    assert (_api_rows(one), _api_rows(many)) == (1, TARGETS)
    return [summary(sorted(times[name])) for name in ("one", "many")]


def measure(one, many):
    """The two pages' loads interleaved (one, many / many, one, …): the machine's speed drifts within a run,
    and measured in two blocks that drift landed in the ratio."""
    first = {"one": timed(lambda: _load(one), 1)[0], "many": timed(lambda: _load(many), 1)[0]}
    for _ in range(WARMUP - 1):
        _load(one), _load(many)
    times = {"one": [], "many": []}
    for n in range(REPEAT):
        for name in (("one", "many") if n % 2 == 0 else ("many", "one")):
            times[name] += timed(lambda name=name: _load(one if name == "one" else many), 1)
    statuses = {name: [row["status"] for row in _load(client).context["rows"]]
                for name, client in (("one", one), ("many", many))}
    return [{**summary(sorted(times[name])), "first": first[name], "statuses": statuses[name]}
            for name in ("one", "many")]


def run():
    from django.contrib.auth.models import Group

    from dbtools.monitoring import fleet

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # accepts (the kernel's backlog), never answers
    try:
        with bench_database("bench_pgdeck_fleet"):
            register(silent.getsockname()[1])
            group = Group.objects.create(name="fleet-bench")
            _grant_all(group)
            # the same role and code path on both sides: one viewer may monitor "default" only, the other
            # (through a group with grants) every target
            fleet.forget()
            one, many = measure(_viewer("bench-one"), _viewer("bench-many", group))
            api = measure_api(*_admin_key_clients())
            fleet.forget()
    finally:
        silent.close()
    assert len(one["statuses"]) == 1 and len(many["statuses"]) == TARGETS, (one["statuses"], many["statuses"])
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    write_section("fleet", f"Fleet overview: {TARGETS} targets vs 1", render(one, many, api, load))
    print(render(one, many, api, load))


def render(one, many, api, load):
    count = {status: many["statuses"].count(status) for status in ("up", "slow", "down")}
    lines = ["| page | p50 ms | p95 ms | first load ms | statuses |", "| --- | ---: | ---: | ---: | --- |",
             f"| 1 target | {one['p50']:.1f} | {one['p95']:.1f} | {one['first']:.1f} | "
             f"{one['statuses'].count('up')} up |",
             f"| {TARGETS} targets | {many['p50']:.1f} | {many['p95']:.1f} | {many['first']:.1f} | "
             f"{count['up']} up, {count['slow']} slow, {count['down']} down |",
             "", f"p50 ratio {many['p50'] / one['p50']:.2f}×, p95 ratio {many['p95'] / one['p95']:.2f}×. "
             "Goal: ≤ 2× and p95 ≤ 1 s.", "",
             f"The same for an admin, through the API (`{API_URL}`, JSON; a key limited to \"default\" vs a key "
             f"for every target, interleaved): p50 {api[0]['p50']:.1f} vs {api[1]['p50']:.1f} ms, ratio "
             f"{api[1]['p50'] / api[0]['p50']:.2f}×; p95 {api[0]['p95']:.1f} vs {api[1]['p95']:.1f} ms.", "",
             f"One run, Django test client in-process (template included), two viewers: one may monitor "
             f"\"default\" only, the other all {TARGETS} targets (through a group's grants), their loads interleaved. "
             f"The {TARGETS} targets: \"default\" (the "
             f"embedded PostgreSQL 18) and {TARGETS - 3} registered targets on the same server, one on a closed "
             "port (\"down\": connection refused) and one on a port that accepts and never answers (\"slow\"). "
             f"{REPEAT} loads per row, after {WARMUP} warm-ups (the first is shown: it waits "
             f"FLEET_DEADLINE_SECONDS={settings.FLEET_DEADLINE_SECONDS} s for the silent port and runs every "
             "target's health checks; later loads do not wait for a target that did not answer in time, and reuse "
             f"the alerts for FLEET_ALERTS_SECONDS={settings.FLEET_ALERTS_SECONDS} s; probes keep one connection "
             f"per target). Load average during the run: {load} (a shared 2-core machine)."]
    return "\n".join(lines)
