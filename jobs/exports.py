"""Query exports as jobs: the export (dbtools.query.export, as the user's own query role) written to a file in
EXPORT_DIR, downloadable when the job has succeeded.

The file is written as `<name>.partial` and renamed only once complete, so a failed, cancelled or killed export
never leaves anything under the final name; downloads serve only a succeeded job's final file, to the user who
started it.

Files are kept JOBS_EXPORT_RETENTION_HOURS after their job finished (jobs.export_retention prunes them)."""

import os
from pathlib import Path

from django.conf import settings

from dbtools.backups.cli import human_size
from dbtools.backups.files import partial_path, private_open
from dbtools.query.errors import QueryError
from jobs.errors import JobError


class ExportGone(JobError):
    """The export succeeded, but its file has since been removed by retention: 410, not a missing-file 500."""


def export_path(run):
    extension = "json" if run.params.get("format") == "json" else run.params.get("format", "csv")
    return Path(str(settings.EXPORT_DIR)) / f"export-{run.pk}.{extension}"


def export_body(run, tracker):
    # Imported here: the editor's pipeline (pglast) stays out of every process's start-up (jobs.admin imports us).
    from dbtools.query.export import FORMATS, Export

    user, params = run.user, run.params
    if user is None or not user.is_active or not user.has_perm("dbtools.export_query"):
        raise JobError(f"job #{run.pk}: its user may no longer export query results")
    try:
        export = Export(user=user, sql_text=params["sql"], fmt=params["format"], params=params.get("params"))
    except QueryError as exc:
        raise JobError(exc.message) from None
    path = export_path(run)
    partial = partial_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tracker.log(f"exporting {params['format']} into {path.name}")
    size, chunks = 0, iter(export)
    try:
        with private_open(partial) as out:
            for chunk in chunks:
                out.write(chunk)
                size += len(chunk)
                tracker.progress(f"{export.rows} rows, {human_size(size)} written")
            if export.failure is not None:
                raise JobError(export.failure.message)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        chunks.close()  # a cancel mid-stream: the COPY is cancelled and the history row finished now
    tracker.log(f"{export.rows} rows, {human_size(size)}")
    return {"file": path.name, "size": size, "rows": export.rows, "filename": export.filename,
            "content_type": FORMATS[params["format"]]}


def export_download(run, user):
    """(open file, filename, content type) of a finished export `user` may download; JobError (one line)
    otherwise, ExportGone once retention removed it (opened here: a file pruned a moment ago is a 410 too)."""
    if run.kind != "export":
        raise JobError(f"job #{run.pk} is a {run.kind} job, not an export")
    if run.user_id != user.pk or not user.has_perm("dbtools.export_query"):
        raise PermissionError("only the user who started an export may download it")
    if run.status != "succeeded":
        raise JobError(f"job #{run.pk} is {run.status}: its file is offered once it has succeeded")
    path = export_path(run)
    gone = ExportGone(f"the file of export job #{run.pk} has been removed (exports are kept "
                      f"{settings.JOBS_EXPORT_RETENTION_HOURS:g} h): run the export again")
    if (run.result or {}).get("pruned_at"):
        raise gone
    try:
        handle = open(path, "rb")  # noqa: SIM115  (closed by the FileResponse that streams it)
    except (FileNotFoundError, IsADirectoryError):
        raise gone from None
    return handle, run.result.get("filename") or path.name, run.result.get("content_type", "application/octet-stream")
