"""trainjob: run the fine-tune itself, so that it cannot lose its work.

``trainjob run SPEC`` (``trainjob.run.run_job``) trains locally or inside a SageMaker container
(``trainjob.run.main_from_sagemaker_env``) after ``preflight.check`` passes; ``trainjob rehearse
SPEC`` (``trainjob.rehearse.rehearse``) proves data, save, SIGTERM and resume on a shallow copy
of the model in minutes. ``trainjob exec [SPEC] -- COMMAND`` runs the user's own training
command with the same safety injected into every Trainer it creates, and ``protect(trainer)``
is that as one line in a script. Importing this package imports neither torch nor transformers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["protect"]


def protect(trainer: Any, **options: Any) -> Any:
    """Give ``trainer`` (a ``transformers.Trainer``, TRL's trainers included) trainjob's
    checkpoint guard, SIGTERM save, validated resume and final save; see
    ``trainjob.protection.protect`` for the options."""
    from .protection import protect as _protect

    return _protect(trainer, **options)
