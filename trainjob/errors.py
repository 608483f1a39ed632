"""The errors trainjob turns into one clear line and an exit code instead of a traceback."""

from __future__ import annotations


class TrainjobError(Exception):
    """A problem the user can fix (bad data path, mismatched resume, full disk).

    ``exit_code`` follows DESIGN.md: 2 when the input or the tool cannot be used, 1 when the run
    was refused or failed in a way that a re-run after a fix can recover from.
    """

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class RunRefused(TrainjobError):
    """preflight found errors, or a resume would silently change the job: nothing was trained."""

    exit_code = 1


class RunFailed(TrainjobError):
    """Training started and stopped on an error (disk full, out of memory); checkpoints are listed."""

    exit_code = 1
