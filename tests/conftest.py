import os

from hypothesis import HealthCheck, settings

# kernels compile on first use (cached on disk afterwards): no per-example deadline
settings.register_profile("tinytape", deadline=None, max_examples=int(os.environ.get("TINYTAPE_EXAMPLES", 25)),
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tinytape")
