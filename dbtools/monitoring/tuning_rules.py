"""Suggested server settings from RAM, CPUs and storage (the pgtune rules for a web/OLTP workload), each with why.

Pure functions: the tuning screen feeds them pg_settings and what it knows about the machine.
"""

MB, GB = 1024**2, 1024**3


def _mb(value):
    return f"{value // GB} GB" if value >= GB and value % GB == 0 else f"{round(value / MB)} MB"


def memory(ram, connections):
    shared = ram // 4
    work = max(4 * MB, (ram - shared) // (connections * 3))
    return [
        ("shared_buffers", shared, _mb(shared), "25 % of RAM: PostgreSQL's own cache; the OS cache holds the rest."),
        ("effective_cache_size", ram * 3 // 4, _mb(ram * 3 // 4),
         "75 % of RAM: tells the planner how much of the data the caches hold (allocates nothing)."),
        ("maintenance_work_mem", min(ram // 16, 2 * GB), _mb(min(ram // 16, 2 * GB)),
         "RAM/16, at most 2 GB: VACUUM, CREATE INDEX and ALTER TABLE run faster with more."),
        ("work_mem", work, _mb(work), f"(RAM − shared_buffers) / (3 × {connections} connections): per sort/hash "
         "node, so a few per query may run at once; more spills to disk less, too much risks running out of memory."),
    ]


def wal(ram):
    buffers = 16 * MB if ram // 4 >= 512 * MB else max(64 * 1024, ram // 4 * 3 // 100)
    return [
        ("wal_buffers", buffers, _mb(buffers), "16 MB (one WAL segment) once shared_buffers is 512 MB or more."),
        ("min_wal_size", 1 * GB, "1 GB", "Keeps recycled WAL segments around instead of creating new files."),
        ("max_wal_size", 4 * GB, "4 GB", "Fewer forced checkpoints under write bursts (each one flushes every "
         "dirty page and makes the next writes full-page images)."),
        ("checkpoint_completion_target", 0.9, "0.9", "Spread checkpoint writes over 90 % of the interval."),
    ]


def planner(ssd, cpus):
    gather = max(1, min(4, cpus // 2))
    return [
        ("random_page_cost", 1.1 if ssd else 4.0, "1.1" if ssd else "4",
         "SSD: a random read costs about a sequential one, so index scans are priced fairly."
         if ssd else "Spinning disk: random reads really are about 4× a sequential one."),
        ("effective_io_concurrency", 200 if ssd else 2, "200" if ssd else "2",
         "How many reads bitmap heap scans issue ahead; SSDs serve many at once."),
        ("max_worker_processes", cpus, str(cpus), "One background worker per CPU."),
        ("max_parallel_workers", cpus, str(cpus), "Parallel query may use every CPU in total…"),
        ("max_parallel_workers_per_gather", gather, str(gather), "…but one query at most half of them (≤ 4)."),
    ]


def autovacuum(cpus, ssd):
    workers = max(3, min(8, cpus // 2))
    limit = 2000 if ssd else 200
    return [
        ("autovacuum_max_workers", workers, str(workers), "3 by default; more with many CPUs and many tables."),
        ("autovacuum_vacuum_scale_factor", 0.05, "0.05", "Vacuum after 5 % of a table changed (default 20 %): "
         "large tables otherwise pile up millions of dead rows between runs."),
        ("autovacuum_analyze_scale_factor", 0.02, "0.02", "Fresh statistics after 2 % changed (default 10 %)."),
        ("autovacuum_vacuum_cost_limit", limit, str(limit), "How much work autovacuum does between naps; SSDs "
         "absorb 10× the default without hurting queries." if ssd else "The default suits spinning disks."),
    ]


def connections(current, cpus):
    suggested = min(current, max(100, cpus * 4 * 5))
    why = ("Each connection is a process with its own memory; beyond a few per CPU they mostly wait. Use a pooler "
           "(pgdeck's own pool, PgBouncer) rather than raising it; work_mem above is sized for this number.")
    return [("max_connections", suggested, str(suggested), why)]


def suggestions(*, ram, cpus, ssd, max_connections):
    """[(section, [(name, value, shown, why), …]), …] for the given machine."""
    return [("Memory", memory(ram, max_connections)), ("WAL and checkpoints", wal(ram)),
            ("Planner and parallelism", planner(ssd, cpus)), ("Autovacuum", autovacuum(cpus, ssd)),
            ("Connections", connections(max_connections, cpus))]
