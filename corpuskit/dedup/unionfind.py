"""Union-find over document ordinals whose root is always the smallest (earliest) member.

Memory: one int per document.
"""

from __future__ import annotations


class UnionFind:
    """Disjoint sets of 0..n-1, grown with `add`; `find(i)` is the first-added member of i's set."""

    def __init__(self) -> None:
        self.parent: list[int] = []

    def add(self) -> int:
        """Add a singleton set and return its ordinal."""
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def find(self, i: int) -> int:
        root = i
        parent = self.parent
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:  # path compression
            parent[i], i = root, parent[i]
        return root

    def union(self, i: int, j: int) -> int:
        """Join the sets of i and j; the smaller root becomes the root of both. Returns it."""
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return ri
        if rj < ri:
            ri, rj = rj, ri
        self.parent[rj] = ri
        return ri

    def __len__(self) -> int:
        return len(self.parent)
