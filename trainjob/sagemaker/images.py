"""The training image: a HuggingFace PyTorch training DLC for the job's region.

The registry account per region and the tag are data (``data/dlc_images.yaml``, with its source),
not constants here, so a newer DLC release is a data change.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any


class UnknownRegionError(ValueError):
    """No HuggingFace training DLC registry is known for this region."""


@lru_cache(maxsize=1)
def dlc_table() -> dict[str, Any]:
    """The bundled DLC table (registries per region, repository, tag)."""
    from ruamel.yaml import YAML

    text = resources.files("trainjob.sagemaker").joinpath("data/dlc_images.yaml").read_text()
    data = YAML(typ="safe").load(text)
    assert isinstance(data, dict)
    return data


def default_image_uri(region: str) -> str:
    """``<account>.dkr.ecr.<region>.<suffix>/huggingface-pytorch-training:<tag>``."""
    table = dlc_table()
    account = table["registries"].get(region)
    if account is None:
        known = ", ".join(sorted(table["registries"]))
        raise UnknownRegionError(
            f"no HuggingFace training image is known for region {region!r} (known: {known}); "
            "set compute.image_uri or pass --image"
        )
    suffix = table.get("dns_suffix", {}).get(region, "amazonaws.com")
    return f"{account}.dkr.ecr.{region}.{suffix}/{table['repository']}:{table['tag']}"
