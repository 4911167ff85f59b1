"""word2vec.c's lookup tables for the logistic function and its loss, shared by kernels and references.

Scores are clipped to [-MAX_EXP, MAX_EXP] and read from 1000-step tables, as word2vec.c,
gensim and fastText do: a table read costs far less than exp() and log1p() on every output.
"""

from __future__ import annotations

import numpy as np

MAX_EXP = 6.0
TABLE_SIZE = 1000
_GRID = (np.arange(TABLE_SIZE, dtype=np.float64) / TABLE_SIZE * 2 - 1) * MAX_EXP
SIGMOID_TABLE = (1.0 / (1.0 + np.exp(-_GRID))).astype(np.float32)  # sigmoid at the grid points
NEG_LOG_SIGMOID_TABLE = np.log1p(np.exp(-_GRID)).astype(np.float32)  # -log sigmoid at the grid points
SCALE = TABLE_SIZE / MAX_EXP / 2


def table_index(score: float) -> int:
    """Grid cell of a score strictly inside (-MAX_EXP, MAX_EXP)."""
    return int((score + MAX_EXP) * SCALE)
