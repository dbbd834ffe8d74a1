class JobError(Exception):
    """A job request that cannot be honoured (already finished, already queued, …): a one-line message."""
