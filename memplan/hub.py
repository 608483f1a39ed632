"""Finding a model's config.json outside the catalog: the local Hugging Face cache and the hub.

Only ``config.json`` is ever read (a few KB); no weights. The cache is read where
huggingface_hub puts it (``HF_HUB_CACHE``, else ``HF_HOME/hub``, else
``~/.cache/huggingface/hub``), as ``models--org--name/snapshots/<revision>/config.json``,
preferring the revision ``refs/main`` points to. The hub is asked only when online
(``HF_HUB_OFFLINE``/``MEMPLAN_OFFLINE`` unset and no ``--offline``), with one short request and
no retries, so an unreachable hub costs seconds, not minutes. Nothing is written to the cache.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

#: Seconds to wait for the hub before saying it is unreachable.
HUB_TIMEOUT_S = 10.0

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_TRUE = ("1", "true", "yes", "on")


class HubError(RuntimeError):
    """The hub did not give a usable config.json (unreachable, gated, missing, not JSON)."""


def looks_like_repo_id(name: str) -> bool:
    """``org/name`` as the hub spells repo ids (a local path that does not exist is not one)."""
    return bool(_REPO_ID.match(name)) and not name.startswith((".", "/", "~"))


def is_offline(offline: bool | None = None) -> bool:
    """An explicit ``offline`` wins; else ``MEMPLAN_OFFLINE`` or ``HF_HUB_OFFLINE``."""
    if offline is not None:
        return offline
    return any(
        os.environ.get(v, "").strip().lower() in _TRUE
        for v in ("MEMPLAN_OFFLINE", "HF_HUB_OFFLINE")
    )


def cache_dir() -> Path:
    """The hub cache directory huggingface_hub uses on this machine."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HUGGINGFACE_HUB_CACHE"):
        return Path(os.environ["HUGGINGFACE_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def cached_config(repo_id: str) -> Path | None:
    """config.json of ``repo_id`` in the local cache (the ``main`` revision first), or None."""
    if not looks_like_repo_id(repo_id):
        return None
    repo = cache_dir() / ("models--" + repo_id.replace("/", "--"))
    snapshots = repo / "snapshots"
    if not snapshots.is_dir():
        return None
    ref = repo / "refs" / "main"
    if ref.is_file():
        rev = ref.read_text(encoding="utf-8").strip()
        candidate = snapshots / rev / "config.json"
        if candidate.is_file():
            return candidate
    found = [p for p in snapshots.glob("*/config.json") if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _headers() -> dict[str, str]:
    try:
        from huggingface_hub import utils as hf_utils
    except ImportError:
        token = os.environ.get("HF_TOKEN")
        return {"authorization": f"Bearer {token}"} if token else {}
    return dict(hf_utils.build_hf_headers())  # type: ignore[attr-defined]


def fetch_config(repo_id: str, *, timeout: float = HUB_TIMEOUT_S) -> tuple[dict[str, Any], str]:
    """(config.json fields, URL) of ``repo_id`` from the hub; raises HubError saying why not.

    Uses huggingface_hub's endpoint (``HF_ENDPOINT``) and token (``HF_TOKEN`` or
    ``hf auth login``) when it is installed; a gated repo answers 401/403 until its licence is
    accepted on the hub with the account the token belongs to.
    """
    url = f"{_endpoint()}/{repo_id}/resolve/main/config.json"
    if url in _ANSWERS:
        answer = _ANSWERS[url]
        if isinstance(answer, HubError):
            raise answer
        return answer
    try:
        got = _fetch(repo_id, url, timeout)
    except HubError as exc:
        _ANSWERS[url] = exc
        raise
    _ANSWERS[url] = got
    return got


#: One answer per URL and process: a check reads the model from several places.
_ANSWERS: dict[str, tuple[dict[str, Any], str] | HubError] = {}


def _fetch(repo_id: str, url: str, timeout: float) -> tuple[dict[str, Any], str]:
    import urllib.error  # only when the hub is asked: importing memplan stays light
    import urllib.request

    request = urllib.request.Request(url, headers=_headers())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise HubError(
                f"{repo_id} is gated or private (HTTP {exc.code}): accept its licence on "
                f"https://huggingface.co/{repo_id} and log in (`hf auth login` or HF_TOKEN), "
                "or set model.name to a local directory holding its config.json"
            ) from exc
        if exc.code == 404:
            raise HubError(f"{repo_id} has no config.json on the hub (HTTP 404)") from exc
        raise HubError(f"{url} answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HubError(
            f"{_endpoint()} is unreachable ({reason}); work offline with a local directory or "
            "a model in the Hugging Face cache"
        ) from exc
    try:
        cfg = json.loads(body)
    except json.JSONDecodeError as exc:
        raise HubError(f"{url} is not JSON ({exc})") from exc
    if not isinstance(cfg, dict):
        raise HubError(f"{url} does not hold a JSON object")
    return cfg, f"https://huggingface.co/{repo_id}/blob/main/config.json"
