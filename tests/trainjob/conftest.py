"""Fixtures shared by the trainjob tests: what the ``trainjob`` logger emits.

The CLI's logger does not propagate to the root logger once it is set up, so pytest's caplog
does not see it; these fixtures attach a handler to it directly.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture
def logged() -> Iterator[list[logging.LogRecord]]:
    """Every record the ``trainjob`` logger emits at INFO and above during the test."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("trainjob")
    old = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(old)


@pytest.fixture
def log_lines(logged: list[logging.LogRecord]) -> Iterator[list[str]]:
    """The same records as ``"LEVEL message"`` lines, for whole-line asserts."""
    lines: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: lines.append(f"{record.levelname} {record.getMessage()}")  # type: ignore[method-assign]
    logger = logging.getLogger("trainjob")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)
