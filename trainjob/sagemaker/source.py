"""The code a training job runs: a source dir with the spec, the entry script and trainjob itself.

The HuggingFace DLC has torch and transformers but not this toolkit, so the four packages
(trainjob, preflight, memplan, costmodel: pure Python) travel inside ``sourcedir.tar.gz`` next
to the spec, and ``requirements.txt`` names the few small libraries they need that the image may
lack (the training toolkit pip-installs it before running the entry script).

The shipped spec is the user's file with one change, made on a round-trip copy that keeps its
comments: ``training.output_dir`` is set to the checkpoint ``LocalPath``, the only folder
SageMaker syncs to S3 while the job runs. The user's file is never touched.
"""

from __future__ import annotations

import io
import tarfile
from importlib import resources
from pathlib import Path
from typing import Any

from .request import ENTRY_SCRIPT, SPEC_IN_SOURCE

PACKAGES = ("trainjob", "preflight", "memplan", "costmodel")
REQUIREMENTS = [
    "pydantic>=2.7,<3",
    "ruamel.yaml>=0.18",
    "click>=8.1",
    "rich>=13",
    "peft>=0.17",
    "accelerate>=1.0",
    "safetensors",
]
_SKIP_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache"}


def shipped_spec_text(spec_path: Path, checkpoint_local_path: str) -> str:
    """The spec with ``training.output_dir`` forced to the synced checkpoint dir."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    data: Any = yaml.load(spec_path.read_text(encoding="utf-8"))
    training = data.get("training")
    if training is None:
        data["training"] = training = {}
    training["output_dir"] = checkpoint_local_path
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def entry_script_text() -> str:
    """The container entry point (``trainjob/sagemaker/entry.py``), shipped as a script."""
    return resources.files("trainjob.sagemaker").joinpath("entry.py").read_text(encoding="utf-8")


def stage_source(spec_path: Path, checkpoint_local_path: str, dest: Path) -> Path:
    """Write the source dir into ``dest`` (which must be empty or absent); returns ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty; the source dir is staged into a fresh folder")
    (dest / SPEC_IN_SOURCE).write_text(
        shipped_spec_text(spec_path, checkpoint_local_path), encoding="utf-8"
    )
    (dest / ENTRY_SCRIPT).write_text(entry_script_text(), encoding="utf-8")
    (dest / "requirements.txt").write_text("\n".join(REQUIREMENTS) + "\n", encoding="utf-8")
    for name in PACKAGES:
        _copy_package(name, dest / name)
    return dest


def _copy_package(name: str, target: Path) -> None:
    import importlib

    try:
        module = importlib.import_module(name)
    except ImportError:
        return  # a package missing from this install is missing in the container too
    origin = Path(module.__file__ or "").parent
    for file in sorted(origin.rglob("*")):
        rel = file.relative_to(origin)
        if not file.is_file() or _SKIP_DIRS.intersection(rel.parts) or file.suffix == ".pyc":
            continue
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(file.read_bytes())


def tarball(source_dir: Path) -> bytes:
    """``sourcedir.tar.gz`` of a staged dir: files at the archive root, stable order and mtimes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=6) as tar:
        for file in sorted(p for p in source_dir.rglob("*") if p.is_file()):
            info = tar.gettarinfo(str(file), arcname=file.relative_to(source_dir).as_posix())
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with file.open("rb") as fh:
                tar.addfile(info, fh)
    return buf.getvalue()
