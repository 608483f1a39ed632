"""Fixtures of the SageMaker tests: spec variants in tmp dirs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sm_specs import variant


@pytest.fixture
def spot_spec(tmp_path: Path) -> Path:
    """The fixed seed on spot, with 300 h of wait for 240 h of run."""
    return variant(
        tmp_path,
        "seed-spot.yaml",
        {
            "  spot: false\n": "  spot: true\n",
            "  max_run_hours: 240\n": "  max_run_hours: 240\n  max_wait_hours: 300\n",
        },
    )
