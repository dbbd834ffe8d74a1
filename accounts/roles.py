"""The one permission matrix: roles are Django groups holding named permissions; API scopes narrow a key.

Admin, API and commands all ask `user.has_perm(...)`; an API key additionally needs the scope that covers the
permission, so a key can never do more than its owner's role.
"""

ADMIN, OPERATOR, ANALYST, VIEWER = "admin", "operator", "analyst", "viewer"
ROLE_CHOICES = [
    (ADMIN, "Admin"),
    (OPERATOR, "Operator"),
    (ANALYST, "Analyst"),
    (VIEWER, "Viewer"),
]

# dbtools permissions (codename, description); they live on dbtools.DbToolsPermission.
DBTOOLS_PERMISSIONS = [
    ("run_query", "Run read-only SQL in the query editor"),
    ("run_write_query", "Run write-mode SQL in the query editor"),
    ("export_query", "Export query results"),
    ("manage_saved_queries", "Create and share saved queries"),
    ("view_all_query_history", "See every user's query history"),
    ("view_monitoring", "See monitoring screens"),
    ("view_all_backends", "See every session of the app's database in monitoring"),
    ("view_query_text", "See other sessions' SQL text in monitoring"),
    ("cancel_backend", "Cancel a backend's running statement"),
    ("terminate_backend", "Terminate a backend"),
    ("view_backups", "See backups"),
    ("manage_backups", "Create, download, verify and delete backups"),
    ("restore_backup", "Restore a backup"),
    ("view_migrations", "See migration state and history"),
    ("apply_migrations", "Apply and roll back migrations"),
    ("view_audit", "See the audit trail"),
]

# Jobs (jobs app): the Jobs screen and /api/v1/jobs, cancel/retry, and the schedules.
JOBS_READ = ["jobs.view_jobrun"]
JOBS_OPERATE = JOBS_READ + ["jobs.manage_jobs"] + [f"jobs.{action}_schedule" for action in
                                                    ("view", "add", "change", "delete")] + ["jobs.view_querysnapshot"]

BLOG_READ = ["blog.view_bloguser", "blog.view_post"]
BLOG_WRITE = [f"blog.{action}_{model}" for model in ("bloguser", "post") for action in ("add", "change", "delete")]


def _dbtools(*codenames):
    return [f"dbtools.{name}" for name in codenames]


ROLE_PERMISSIONS = {
    ADMIN: None,  # None: every permission of every app (the role is a superuser's equal)
    OPERATOR: BLOG_READ
    + _dbtools(
        "view_monitoring",
        "view_all_backends",
        "view_query_text",
        "cancel_backend",
        "terminate_backend",
        "view_backups",
        "manage_backups",
        "view_migrations",
        "apply_migrations",
    )
    + JOBS_OPERATE,
    ANALYST: BLOG_READ
    + _dbtools("run_query", "export_query", "manage_saved_queries", "view_monitoring", "view_migrations"),
    VIEWER: BLOG_READ + _dbtools("view_monitoring", "view_all_backends"),
}

# API key scopes and the permissions each one unlocks (still subject to the owner's role).
SCOPES = {
    "read": BLOG_READ + _dbtools("view_monitoring", "view_all_backends", "view_backups", "view_migrations") + JOBS_READ,
    "write": BLOG_WRITE,
    "query": _dbtools("run_query", "export_query", "manage_saved_queries"),
    "monitor": _dbtools("view_monitoring", "view_all_backends"),
    "operate": _dbtools(
        "view_query_text",  # the SQL of the sessions an operator may cancel; never part of read/monitor
        "cancel_backend", "terminate_backend", "view_backups", "manage_backups", "view_migrations", "apply_migrations"
    ) + JOBS_OPERATE,
    "admin": None,  # None: any permission the owner's role has
}
SCOPE_CHOICES = [(name, name) for name in SCOPES]


def scope_allows(scopes, perm):
    """True when one of `scopes` covers permission `perm` ('app.codename')."""
    for scope in scopes:
        allowed = SCOPES.get(scope, [])
        if allowed is None or perm in allowed:
            return True
    return False


def scopes_for_role(role):
    """The scopes a key of a user with `role` may carry (admin gets all).

    A scope is offered when the role holds one of the permissions that make the scope worth having: those
    beyond `read` (so an analyst, who may view migrations, is not offered `operate`), or, for scopes made only of
    read permissions (`read`, `monitor`), any of them.
    """
    if role == ADMIN:
        return list(SCOPES)
    granted = set(ROLE_PERMISSIONS.get(role) or [])
    offered = []
    for name, perms in SCOPES.items():
        if perms is None:
            continue
        core = set(perms) - set(SCOPES["read"]) or set(perms)
        if granted & core:
            offered.append(name)
    return offered
