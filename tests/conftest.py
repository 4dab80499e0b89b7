import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import os

from hypothesis import HealthCheck, settings

# CI runs a fixed set of examples (reproducible, bounded time); `HYPOTHESIS_PROFILE=dev` explores.
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
settings.register_profile(
    "dev",
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
