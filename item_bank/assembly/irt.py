"""2PL item information on the logistic metric: I(theta) = a^2 P (1 - P), P = 1 / (1 + exp(-a (theta - b)))."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def item_information(a: float, b: float, theta: float) -> float:
    p = 1.0 / (1.0 + math.exp(-a * (theta - b)))
    return a * a * p * (1.0 - p)


def information_matrix(a: NDArray[np.float64], b: NDArray[np.float64], thetas: Sequence[float]) -> NDArray[np.float64]:
    """Shape (len(thetas), len(a)); NaN parameters give zero information."""
    th = np.asarray(thetas, dtype=np.float64)[:, None]
    z = np.clip(a[None, :] * (th - b[None, :]), -50.0, 50.0)
    p = 1.0 / (1.0 + np.exp(-z))
    info = a[None, :] ** 2 * p * (1.0 - p)
    return np.nan_to_num(info, nan=0.0)
