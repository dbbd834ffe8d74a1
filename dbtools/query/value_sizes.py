"""Byte length of a value inside a libpq result, without copying it into Python.

psycopg's PGresult has no public get_length; libpq's PQgetlength is called on the very libpq the process has
loaded (psycopg's own), found in /proc/self/maps, so struct layouts always match. tests/query/test_limits.py
asserts that this path is in effect, so a psycopg upgrade that moves libpq cannot make it silently fall back.
"""

import ctypes
from functools import cache


@cache
def _pq_getlength():
    import psycopg  # noqa: F401  (loads libpq)

    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "/libpq" in line and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            function = ctypes.CDLL(path).PQgetlength
        except (OSError, AttributeError):
            continue
        function.argtypes, function.restype = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int], ctypes.c_int
        return function
    return None


def in_effect():
    return _pq_getlength() is not None


def value_length(res, row, col):
    getlength = _pq_getlength()
    if getlength is not None:
        return getlength(res.pgresult_ptr, row, col)
    value = res.get_value(row, col)  # fallback: one copy of the value, still never decoded
    return len(value) if value is not None else 0
