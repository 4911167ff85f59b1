"""Shared fixture for the transformer tests: a finite-difference gradient checker (float64)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest


def _gradcheck(loss: Callable[[], float], x: np.ndarray, analytic: np.ndarray, name: str = "", samples: int = 12, eps: float = 1e-6, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Compare analytic gradient entries with central differences of loss() at random entries of x.

    x is perturbed in place and restored; float64 central differences have error ~eps², so 1e-6
    relative agreement is demanded.
    """
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    flat = x.reshape(-1)
    idx = rng.choice(flat.size, size=min(samples, flat.size), replace=False)
    numeric = np.empty(len(idx))
    for n, i in enumerate(idx):
        old = flat[i]
        flat[i] = old + eps
        up = loss()
        flat[i] = old - eps
        down = loss()
        flat[i] = old
        numeric[n] = (up - down) / (2 * eps)
    got = analytic.reshape(-1)[idx]
    bad = np.abs(got - numeric) > atol + rtol * np.abs(numeric)
    assert not bad.any(), f"{name}: analytic {got[bad][:3]} vs numeric {numeric[bad][:3]} at flat index {idx[bad][:3]}"


@pytest.fixture
def gradcheck() -> Callable[..., None]:
    return _gradcheck
