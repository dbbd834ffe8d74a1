"""schemathesis hooks for the live fuzz run (SCHEMATHESIS_HOOKS): keep generated requests away from real backends.

Cancel/terminate take a pid: a positive pid at or below Linux's pid_max ceiling is shifted past it, so the run can
never signal a backend of the shared server (another helper's tests, the server's own processes).
"""

import schemathesis

PID_CEILING = 4_194_304  # highest pid Linux can hand out (pid_max's ceiling)


@schemathesis.hook
def before_call(context, case, kwargs):
    params = case.path_parameters or {}
    pid = params.get("pid")
    if isinstance(pid, int) and not isinstance(pid, bool) and 0 < pid <= PID_CEILING:
        params["pid"] = pid + PID_CEILING
