"""Did-you-mean: the nearest known names to a misspelt one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def nearest(word: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Close matches to ``word``, best first (``save_total_limt`` -> ``save_total_limit``)."""
    pool = list(candidates)
    found = difflib.get_close_matches(word, pool, n=n, cutoff=cutoff)
    if not found:
        lowered = {c.lower(): c for c in pool}
        found = [
            lowered[m] for m in difflib.get_close_matches(word.lower(), lowered, n=n, cutoff=cutoff)
        ]
    return found


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean `x`?)`` or an empty string."""
    found = nearest(word, candidates, n=1)
    return f" (did you mean `{found[0]}`?)" if found else ""
