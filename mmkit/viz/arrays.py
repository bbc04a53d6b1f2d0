"""What every plot does first: a tensor (on any device, with or without a graph) or an
array-like, as a float numpy array that matplotlib can draw."""

import numpy as np


def as_float_array(x) -> np.ndarray:
    return np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=float)
