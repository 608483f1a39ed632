"""costmodel: how long a fine-tuning job takes, what it costs, spot or on-demand, how often to save.

A pure library with typed inputs: it never imports ``preflight`` or ``trainjob``, reads no job
spec files, and imports boto3 and matplotlib only inside the functions that need them.
"""

from costmodel.catalog import (
    GPU,
    PRICE_MAX_AGE_DAYS,
    Calibration,
    Catalog,
    InstanceType,
    InterruptionRisk,
    Price,
    SpotSaving,
    load_catalog,
    mtbf_from_monthly_share,
)
from costmodel.compare import (
    DEFAULT_CAPACITY_WAIT_MINUTES,
    DEFAULT_RESTART_MINUTES,
    Comparison,
    Option,
    Recommendation,
    compare,
    default_instances,
)
from costmodel.duration import (
    DurationEstimate,
    estimate_checkpoint_minutes,
    estimate_duration,
    estimate_restore_minutes,
)
from costmodel.errors import (
    MissingPriceError,
    MissingThroughputError,
    UnknownGPUError,
    UnknownInstanceError,
)
from costmodel.heuristic import SeedHeuristic, seed_heuristic
from costmodel.simulate import SimulationResult, simulate
from costmodel.spot import (
    CheckpointInterval,
    SpotExpectation,
    SpotParams,
    on_demand_hours,
    optimal_checkpoint_interval,
    segment_expected_hours,
    spot_expectation,
)
from costmodel.workload import Workload

__all__ = [
    "DEFAULT_CAPACITY_WAIT_MINUTES",
    "DEFAULT_RESTART_MINUTES",
    "PRICE_MAX_AGE_DAYS",
    "InterruptionRisk",
    "SpotSaving",
    "estimate_restore_minutes",
    "mtbf_from_monthly_share",
    "GPU",
    "Calibration",
    "Catalog",
    "CheckpointInterval",
    "Comparison",
    "DurationEstimate",
    "InstanceType",
    "MissingPriceError",
    "MissingThroughputError",
    "Option",
    "Price",
    "Recommendation",
    "SeedHeuristic",
    "SimulationResult",
    "SpotExpectation",
    "SpotParams",
    "UnknownGPUError",
    "UnknownInstanceError",
    "Workload",
    "compare",
    "default_instances",
    "estimate_checkpoint_minutes",
    "estimate_duration",
    "load_catalog",
    "on_demand_hours",
    "optimal_checkpoint_interval",
    "seed_heuristic",
    "segment_expected_hours",
    "simulate",
    "spot_expectation",
]
