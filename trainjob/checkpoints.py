"""Checkpoints that cannot lie: validate a ``checkpoint-N`` folder, find the newest valid one, and
move broken ones aside.

Trainer's own resume (``get_last_checkpoint``) takes the highest-numbered folder without looking
inside it, so a save cut short by a kill, a full disk or a spot reclaim crashes the resume, and the
v5 JIT sentinel ``checkpoint-is-incomplete.txt`` is written but never read. Everything here is
plain file inspection (no torch): the safetensors header says whether the tensor data is all
there, ``optimizer.pt`` is a zip whose central directory is at the end of the file, and
``trainer_state.json`` is written last (transformers 5.x ``_save_checkpoint`` order: weights,
optimizer/scheduler/RNG, then state), so its ``global_step`` matching the folder name is the
completion mark.

Nothing is ever deleted here: on SageMaker a local delete in the checkpoint dir deletes in S3 as
well, so a broken checkpoint is renamed to ``quarantine-checkpoint-N-<reason>``, outside the
``checkpoint-*`` glob that rotation and resume read.
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
SENTINEL = "checkpoint-is-incomplete.txt"
STATE_FILE = "trainer_state.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
FULL_WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
SHARD_INDEX = "model.safetensors.index.json"

# Bytes per element of each safetensors dtype, from safetensors' own ``Dtype::size``
# (huggingface/safetensors, safetensors/src/tensor.rs). A dtype not listed here (a newer
# sub-byte float) gets no size check, only the offset checks.
DTYPE_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "F64": 8,
    "I64": 8,
    "U64": 8,
}


@dataclass
class CheckpointCheck:
    """The verdict on one checkpoint folder: valid, or the reasons it is not."""

    path: Path
    step: int
    problems: list[str] = field(default_factory=list)
    kind: str = "unknown"  # "adapter" or "full"

    @property
    def valid(self) -> bool:
        return not self.problems

    def reason_slug(self) -> str:
        """A short folder-name-safe reason, for the quarantine name."""
        words = re.findall(r"[a-z0-9]+", self.problems[0].lower()) if self.problems else []
        # words are never empty, so a cut leaves at most one dangling dash
        return "-".join(words)[:40].removesuffix("-") or "invalid"


def checkpoint_step(path: Path) -> int | None:
    """N for a folder named ``checkpoint-N``, else None."""
    match = CHECKPOINT_RE.match(path.name)
    return int(match.group(1)) if match else None


def list_checkpoints(output_dir: Path) -> list[Path]:
    """Every ``checkpoint-N`` folder in ``output_dir``, oldest step first."""
    if not output_dir.is_dir():
        return []
    found = [
        (step, p)
        for p in output_dir.iterdir()
        if p.is_dir() and (step := checkpoint_step(p)) is not None
    ]
    return [p for _, p in sorted(found)]


def validate_checkpoint(path: Path, *, require_optimizer: bool = True) -> CheckpointCheck:
    """Check one checkpoint folder the way a resume would need it, without loading tensors.

    ``require_optimizer`` is False only for ``save_only_model=True`` runs, whose checkpoints hold
    no optimizer by design (and restart AdamW and the LR schedule on resume).
    """
    step = checkpoint_step(path)
    check = CheckpointCheck(path=path, step=step if step is not None else -1)
    problems = check.problems
    if step is None:
        problems.append(f"folder name {path.name!r} is not checkpoint-<step>")
        return check
    if not path.is_dir():
        problems.append("not a directory")
        return check
    if (path / SENTINEL).exists():
        problems.append("incomplete JIT save (checkpoint-is-incomplete.txt present)")

    state_path = path / STATE_FILE
    if not state_path.is_file():
        problems.append("trainer_state.json missing (save did not finish)")
    else:
        try:
            state = json.loads(state_path.read_bytes())
            saved_step = state.get("global_step") if isinstance(state, dict) else None
            if saved_step != step:
                problems.append(
                    f"global_step {saved_step} in trainer_state.json, folder says {step}"
                )
        except (OSError, ValueError) as exc:
            problems.append(f"trainer_state.json does not parse ({_short(exc)})")

    adapter = next((path / n for n in ADAPTER_WEIGHTS if (path / n).is_file()), None)
    if adapter is not None:
        check.kind = "adapter"
        _check_weights(adapter, problems)
        config = path / "adapter_config.json"
        if not config.is_file():
            problems.append("adapter_config.json missing")
        else:
            try:
                if not isinstance(json.loads(config.read_bytes()), dict):
                    problems.append("adapter_config.json is not a JSON object")
            except (OSError, ValueError) as exc:
                problems.append(f"adapter_config.json does not parse ({_short(exc)})")
    else:
        full = next((path / n for n in FULL_WEIGHTS if (path / n).is_file()), None)
        if full is None:
            problems.append("no model weights (adapter_model.safetensors or model.safetensors)")
        else:
            check.kind = "full"
            if full.name == SHARD_INDEX:
                _check_shards(full, problems)
            else:
                _check_weights(full, problems)

    if require_optimizer:
        for name in ("optimizer.pt", "scheduler.pt"):
            file = path / name
            if not file.is_file():
                problems.append(f"{name} missing")
            elif not _is_complete_zip(file):
                problems.append(f"{name} is truncated (not a complete torch.save archive)")
    return check


def _check_weights(path: Path, problems: list[str]) -> None:
    if path.suffix != ".safetensors":
        if path.stat().st_size == 0:
            problems.append(f"{path.name} is empty")
        return
    error = safetensors_problem(path)
    if error:
        problems.append(f"{path.name}: {error}")


def _check_shards(index: Path, problems: list[str]) -> None:
    """Every shard a sharded save lists in its index must be there and complete: a restore or
    sync that stopped part way leaves the index with shards missing."""
    try:
        data = json.loads(index.read_bytes())
    except (OSError, ValueError) as exc:
        problems.append(f"{index.name} does not parse ({_short(exc)})")
        return
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        problems.append(f"{index.name} has no weight_map")
        return
    for shard in sorted({str(name) for name in weight_map.values()}):
        if not (index.parent / shard).is_file():
            problems.append(f"{shard} missing (listed in {index.name})")
        else:
            _check_weights(index.parent / shard, problems)


def safetensors_problem(path: Path) -> str | None:
    """Why a .safetensors file is unusable (truncated, no tensors, all empty, a header that does
    not describe its data), or None.

    The format is an 8-byte little-endian header length, a JSON header with each tensor's
    ``dtype``, ``shape`` and ``data_offsets``, then the data. The checks are the ones safetensors
    makes when it opens a file (``Metadata::validate``): sorted by offset, each tensor starts where
    the previous one ended, spans exactly ``prod(shape) * dtype size`` bytes, and the last one
    ends at the end of the file.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            raw = fh.read(8)
            if len(raw) < 8:
                return "truncated (no header)"
            (header_len,) = struct.unpack("<Q", raw)
            if header_len > size - 8:
                return "truncated (header longer than file)"
            header = json.loads(fh.read(header_len))
    except (OSError, ValueError) as exc:
        return f"unreadable ({_short(exc)})"
    return safetensors_header_problem(header, header_len, size)


def safetensors_header_problem(header: object, header_len: int, size: int) -> str | None:
    """What is wrong with a parsed safetensors ``header`` of ``header_len`` bytes in a file of
    ``size`` bytes, or None. Pure, so a reader that only has the header and the size (a ranged
    S3 read) can make the same checks."""
    if not isinstance(header, dict):
        return "header is not a mapping"
    tensors = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        span = _span(info)
        if span is None:
            return f"tensor {name!r} has no valid dtype, shape and data_offsets"
        tensors.append((span, name, info))
    if not tensors:
        return "holds no tensors"
    end = 0
    for (begin, stop), name, info in sorted(tensors):
        if begin != end:
            return f"tensor {name!r} starts at byte {begin}, not {end} (a gap or an overlap)"
        if stop < begin:
            return f"tensor {name!r} ends at byte {stop}, before it starts ({begin})"
        needed = _tensor_bytes(info)
        if needed is not None and stop - begin != needed:
            return (
                f"tensor {name!r} holds {stop - begin} bytes, its {info['dtype']} shape "
                f"{info['shape']} needs {needed}"
            )
        end = stop
    if end == 0:
        return "all tensors are empty"
    promised = 8 + header_len + end
    if size < promised:
        return f"truncated ({size} bytes, header promises {promised})"
    if size > promised:
        extra = size - promised
        return f"{extra} bytes past the last tensor ({size} bytes, header promises {promised})"
    return None


def _span(info: object) -> tuple[int, int] | None:
    """A tensor's ``data_offsets`` as (begin, end); None when the entry is malformed."""
    if (
        isinstance(info, dict)
        and isinstance(info.get("dtype"), str)
        and _is_dims(info.get("shape"))
    ):
        offsets = info.get("data_offsets")
        if isinstance(offsets, list) and len(offsets) == 2 and _is_dims(offsets):
            return offsets[0], offsets[1]
    return None


def _is_dims(value: object) -> bool:
    """A list of non-negative ints (a shape, or a pair of offsets); bools are not ints here."""
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    )


def _tensor_bytes(info: dict[str, object]) -> int | None:
    """Bytes the tensor's dtype and shape need, or None for a dtype without a known size."""
    width = DTYPE_BYTES.get(str(info["dtype"]))
    if width is None:
        return None
    count = 1
    for dim in info["shape"]:  # type: ignore[attr-defined]
        count *= dim
    return count * width


def _is_complete_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return bool(zf.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:80]


def quarantine(check: CheckpointCheck) -> Path:
    """Rename an invalid checkpoint out of the ``checkpoint-*`` glob; never delete it."""
    base = f"quarantine-{check.path.name}-{check.reason_slug()}"
    target = check.path.with_name(base)
    n = 1
    while target.exists():
        n += 1
        target = check.path.with_name(f"{base}-{n}")
    check.path.rename(target)
    return target


@dataclass
class ResumePoint:
    """Where a run resumes from, and what had to be moved aside to get there."""

    checkpoint: CheckpointCheck | None
    quarantined: list[tuple[CheckpointCheck, Path]] = field(default_factory=list)


def find_resume_point(
    output_dir: Path,
    *,
    require_optimizer: bool = True,
    move_aside: bool = True,
    verify: Callable[[Path], list[str]] | None = None,
) -> ResumePoint:
    """The newest valid checkpoint; every invalid one is quarantined (renamed, not deleted).

    Invalid checkpoints older than the chosen one are moved aside too: Trainer's rotation would
    otherwise count them as kept copies and delete good ones in their place. In a multi-process
    run only rank 0 moves folders (``move_aside``); the others reach the same verdict by reading.
    ``verify`` (``trainjob.verify.verify_checkpoint_files``) is the deep check, run on the
    structurally valid candidate before it is chosen: its problems make it invalid too.
    """
    point = ResumePoint(checkpoint=None)
    for path in reversed(list_checkpoints(output_dir)):
        check = validate_checkpoint(path, require_optimizer=require_optimizer)
        if check.valid and point.checkpoint is None and verify is not None:
            check.problems.extend(verify(path))
        if check.valid:
            if point.checkpoint is None:
                point.checkpoint = check
        elif move_aside:
            point.quarantined.append((check, quarantine(check)))
    return point


def folder_bytes(path: Path) -> int:
    """Total size of the files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def human_bytes(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    if n < 1024:
        return f"{n:.0f} B"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if n < 1024:
            return f"{n:.1f} {unit}"
    return f"{n / 1024:.1f} TiB"
