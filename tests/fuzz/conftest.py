"""Hypothesis profiles for the fuzz tests: "ci" (10,000 inputs per reader, reproducible) and "fuzz" (100,000,
``make fuzz``), chosen with the environment variable HYPOTHESIS_PROFILE (default "ci").

The fuzz tests take their settings from ``fuzz_settings`` (a decorator); no profile is loaded globally, so
the other property tests of the suite keep their own (smaller) numbers of examples."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=10_000, deadline=None, derandomize=True)
settings.register_profile("fuzz", max_examples=100_000, deadline=None)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
fuzz_settings = settings(settings.get_profile(PROFILE if PROFILE in ("ci", "fuzz") else "ci"))
