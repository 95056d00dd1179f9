"""Shared fixtures for the test suite."""

import os

import numpy as np
import pytest
from hypothesis import settings

# In CI the property tests replay the same examples every run, so that a red build always means a
# change in the code, never a new random draw; on a developer's machine they keep exploring.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed, so that every test sees the same random data."""
    return np.random.default_rng(1234)
