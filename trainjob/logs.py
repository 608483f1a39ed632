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
    handler = _QuietFileHandler(output_dir / "trainjob.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    logging.getLogger(LOGGER).addHandler(handler)
    return handler


class _QuietFileHandler(logging.FileHandler):
    """A file log that stops, with one console line, when its disk fills or turns read-only.

    logging's default ``handleError`` prints "--- Logging error ---" and a traceback for every
    record after the first failed write, which buries the one line that says what happened."""

    failed = False

    def handleError(self, record: logging.LogRecord) -> None:
        if self.failed:
            return
        self.failed = True
        exc = sys.exc_info()[1]
        sys.stderr.write(f"trainjob: {self.baseFilename}: log not written from here on ({exc})\n")

    def close(self) -> None:
        try:
            super().close()
        except OSError:  # the final flush hit the same full or read-only disk
            self.failed = True
