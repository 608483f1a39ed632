"""Loaded by Python at start-up in every process ``trainjob exec`` starts (this folder is first on
the child's ``PYTHONPATH``), including each rank that torchrun or ``accelerate launch`` spawns.

It does nothing unless ``TRAINJOB_EXEC_CONFIG`` is set. Then it runs the sitecustomize this one
shadows (so a site's own start-up code still runs), and installs an import hook that, once
``transformers.trainer`` has been imported, wraps ``Trainer.__init__`` so that every Trainer
(TRL's subclasses included) is passed to ``trainjob.protection.protect`` when built. Nothing is
imported until the program itself imports transformers; a program that never does runs as it
would without trainjob. This file must stay importable without trainjob on the path.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET = "transformers.trainer"


def _chain() -> None:
    """Run the next sitecustomize on sys.path, the one this file shadows."""
    for entry in sys.path:
        try:
            folder = Path(entry or ".").resolve()
        except OSError:
            continue
        if folder == HERE:
            continue
        candidate = folder / "sitecustomize.py"
        if candidate.is_file():
            spec = importlib.util.spec_from_file_location(
                "_trainjob_chained_sitecustomize", candidate
            )
            if spec is not None and spec.loader is not None:
                module = importlib.util.module_from_spec(spec)
                try:
                    spec.loader.exec_module(module)
                except Exception as exc:  # theirs failing must not be blamed on trainjob
                    print(f"trainjob exec: {candidate} raised {exc!r}", file=sys.stderr)
            return


def _options() -> dict[str, Any]:
    raw = os.environ.get("TRAINJOB_EXEC_CONFIG", "")
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def _patch(module: Any) -> None:
    trainer_cls = getattr(module, "Trainer", None)
    if trainer_cls is None or getattr(trainer_cls, "_trainjob_patched", False):
        return
    original_init = trainer_cls.__init__
    options = _options()

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        try:
            from trainjob.protection import protect
        except ImportError as exc:
            print(f"trainjob exec: cannot import trainjob ({exc}); NOT protected", file=sys.stderr)
            return
        protect(self, **options)

    __init__.__wrapped__ = original_init  # type: ignore[attr-defined]
    trainer_cls.__init__ = __init__
    trainer_cls._trainjob_patched = True


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def create_module(self, spec: Any) -> Any:
        return self.inner.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.inner.exec_module(module)
        _patch(module)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds ``transformers.trainer`` the normal way and patches it right after it executes."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _Loader(spec.loader)
        return spec


if os.environ.get("TRAINJOB_EXEC_CONFIG"):
    _chain()
    if TARGET in sys.modules:  # imported by a chained sitecustomize already
        _patch(sys.modules[TARGET])
    else:
        sys.meta_path.insert(0, _Finder())
