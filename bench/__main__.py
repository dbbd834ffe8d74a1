"""`make bench`: run every benchmark module listed here; each writes its section of docs/benchmarks.md."""

import importlib
import os
import sys

import django

MODULES = [
    "bench.changelist",
    "bench.migrations_bridge",
    "bench.backup",
    "bench.api_auth",
    "bench.monitoring",
    "bench.monitoring_history",
    "bench.export",
    "bench.editor_boundary",
    "bench.search",
    "bench.warm_start",
    "bench.jobs",
    "bench.fleet",
    "bench.result_grid",
]


def main(selected):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    for name in MODULES:
        if selected and name.rsplit(".", 1)[-1] not in selected:
            continue
        print(f"== {name}", flush=True)
        importlib.import_module(name).run()


if __name__ == "__main__":
    main(sys.argv[1:])
