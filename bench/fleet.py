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


def measure(client):
    first = timed(lambda: client.get(URL), 1)[0]
    for _ in range(WARMUP - 1):
        response = client.get(URL)
    assert response.status_code == 200
    statuses = [row["status"] for row in response.context["rows"]]
    return {**summary(timed(lambda: client.get(URL), REPEAT)), "first": first, "statuses": statuses}


def run():
    from accounts.models import User
    from dbtools.monitoring import fleet

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # accepts (the kernel's backlog), never answers
    try:
        with bench_database("bench_pgdeck_fleet"):
            admin = User.objects.create_superuser("bench", "bench@example.com", "bench-pass", role="admin")
            client = Client()
            client.force_login(admin)
            fleet.forget()
            one = measure(client)
            register(silent.getsockname()[1])
            fleet.forget()
            many = measure(client)
            fleet.forget()
    finally:
        silent.close()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    write_section("fleet", f"Fleet overview: {TARGETS} targets vs 1", render(one, many, load))
    print(render(one, many, load))


def render(one, many, load):
    count = {status: many["statuses"].count(status) for status in ("up", "slow", "down")}
    lines = ["| page | p50 ms | p95 ms | first load ms | statuses |", "| --- | ---: | ---: | ---: | --- |",
             f"| 1 target | {one['p50']:.1f} | {one['p95']:.1f} | {one['first']:.1f} | 1 up |",
             f"| {TARGETS} targets | {many['p50']:.1f} | {many['p95']:.1f} | {many['first']:.1f} | "
             f"{count['up']} up, {count['slow']} slow, {count['down']} down |",
             "", f"p50 ratio {many['p50'] / one['p50']:.2f}×, p95 ratio {many['p95'] / one['p95']:.2f}×. "
             "Goal: ≤ 2× and p95 ≤ 1 s.", "",
             f"One run, Django test client in-process (template included). {TARGETS} targets: \"default\" (the "
             f"embedded PostgreSQL 18) and {TARGETS - 3} registered targets on the same server, one on a closed "
             "port (\"down\": connection refused) and one on a port that accepts and never answers (\"slow\"). "
             f"{REPEAT} loads per row after {WARMUP} warm-ups (the first is shown: it waits "
             f"FLEET_DEADLINE_SECONDS={settings.FLEET_DEADLINE_SECONDS} s for the silent port and runs every "
             "target's health checks; later loads do not wait for a target that did not answer in time, and reuse "
             f"the alerts for FLEET_ALERTS_SECONDS={settings.FLEET_ALERTS_SECONDS} s; probes keep one connection "
             f"per target). Load average during the run: {load} (a shared 2-core machine)."]
    return "\n".join(lines)
