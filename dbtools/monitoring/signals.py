"""Remember the backend pid of every connection this process's Django hands out, so cancel/terminate can refuse
pgdeck's own sessions even while another thread is using them (idle pool connections are only part of it)."""

import threading
from collections import OrderedDict

from django.db.backends.signals import connection_created
from django.dispatch import receiver

MAX_REMEMBERED = 1000  # the pool recycles connections; the oldest pids are forgotten first
_lock = threading.Lock()
_pids = OrderedDict()


@receiver(connection_created, dispatch_uid="pgdeck-monitoring-remember-pid")
def remember_backend_pid(sender, connection, **kwargs):
    pid = getattr(getattr(connection.connection, "info", None), "backend_pid", None)
    if pid:
        with _lock:
            _pids[pid] = True
            _pids.move_to_end(pid)
            while len(_pids) > MAX_REMEMBERED:
                _pids.popitem(last=False)


def remembered_pids():
    with _lock:
        return set(_pids)
