"""Where trainjob's log goes: the terminal (through rich, so it interleaves with the bar) or plain
stderr (CloudWatch, CI), and always ``trainjob.log`` in the run's output dir, which on SageMaker
is synced to S3 with the checkpoints."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from .progress import console

LOGGER = "trainjob"
FORMAT = "%(asctime)s trainjob %(levelname)s %(message)s"


def setup_console_logging(*, live: bool | None = None) -> logging.Logger:
    """Log INFO and above to the terminal once per process."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not any(getattr(h, "_trainjob_console", False) for h in logger.handlers):
        con = console()
        handler: logging.Handler
        if con.is_terminal if live is None else live:
            from rich.logging import RichHandler

            handler = RichHandler(console=con, show_path=False, markup=False)
            handler.setFormatter(logging.Formatter("%(message)s"))
        else:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter(FORMAT, "%H:%M:%S"))
        setattr(handler, "_trainjob_console", True)  # noqa: B010 (marks our own handler)
        logger.addHandler(handler)
    return logger


def add_file_log(output_dir: Path) -> logging.Handler:
    """Append the run's log to ``output_dir/trainjob.log``; returns the handler to remove later."""
    output_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(output_dir / "trainjob.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    logging.getLogger(LOGGER).addHandler(handler)
    return handler
