"""Draw words at 2-D projections of their vectors into a PNG (matplotlib, imported lazily)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from corpuskit.embeddings.keyed_vectors import KeyedVectors
from corpuskit.embeddings.projection import pca_2d, tsne_2d
from corpuskit.files import atomic_write


def plot_words(kv: KeyedVectors, words: Sequence[str], path: str | Path, method: str = "pca", seed: int = 0) -> np.ndarray:
    """Project `words` with 'pca' or 'tsne', write the labelled scatter plot to `path`, return the points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    vectors = np.stack([kv.get_vector(w, norm=True) for w in words])
    if method == "pca":
        points = pca_2d(vectors)
    elif method == "tsne":
        points = tsne_2d(vectors, seed=seed)
    else:
        raise ValueError(f"projection must be 'pca' or 'tsne', not {method!r}")
    figure, axes = plt.subplots(figsize=(7, 6))
    axes.scatter(points[:, 0], points[:, 1], s=12)
    for word, (x, y) in zip(words, points):
        axes.annotate(word, (x, y), fontsize=9, xytext=(3, 3), textcoords="offset points")
    axes.set_title(f"{len(words)} words, {method.upper()}")
    figure.tight_layout()
    with atomic_write(path, "wb") as out:
        figure.savefig(out, format="png", dpi=120)
    plt.close(figure)
    return points
