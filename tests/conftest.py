"""Shared pytest configuration: hypothesis profiles.

``dev`` (the default) keeps the generated tests to a bounded number of examples so the suite runs in a couple of
minutes on 2 cores; ``thorough`` is for a long local run: ``HYPOTHESIS_PROFILE=thorough python -m pytest tests``.
No deadline: a first call may pay for imports and caches, and the finite-difference oracles are slow by design.
"""
import os

# The generated tests make thousands of LAPACK calls on 2x2 to 5x5 matrices; with OpenBLAS's thread pool, on a
# loaded 2-core machine, each such call can take milliseconds instead of microseconds (C-ordered inputs to
# scipy.linalg.solve_triangular, measured 13 ms vs 36 us). Set before numpy is imported; an explicit setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
