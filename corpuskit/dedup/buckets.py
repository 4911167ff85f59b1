"""Joining the documents of LSH buckets: verify candidate pairs, link near-duplicates.

A bucket is a run of documents sharing one band key. Two documents of a bucket are linked when
their bottom-k sketches give Jaccard >= threshold (or always, without verification). The
components of the links are what the reference (datasketch's LSH queried document by document,
`corpuskit.dedup.reference`) builds; here a pair is checked only when its documents are not
already connected, which leaves the components unchanged and makes a bucket of k copies (or a
star of k documents around one) cost O(k) checks instead of O(k^2).

Versions: `link_buckets_ref` (plain Python, every pair) is the truth; `link_buckets` (numba)
walks, for each document, the *components* of the earlier documents of its bucket and checks
members of a component only until one links.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def sketch_jaccard_ref(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """Jaccard from two bottom-k sketches: see `corpuskit.dedup.signatures.sketch_jaccard`."""
    from corpuskit.dedup.signatures import sketch_jaccard

    return sketch_jaccard(a, b, k)


def link_buckets_ref(offsets, members, sketches, lengths, k, threshold, verify):
    """Every pair of every bucket, linked when it passes; returns the component root (smallest
    member index) of each of the `len(sketches)` documents and the number of checks made."""
    parent = list(range(len(sketches)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    checks = 0
    for bucket in range(len(offsets) - 1):
        items = members[offsets[bucket] : offsets[bucket + 1]]
        for x in range(1, len(items)):
            for y in range(x):
                i, j = int(items[x]), int(items[y])
                if verify:
                    checks += 1
                    if sketch_jaccard_ref(sketches[i, : lengths[i]], sketches[j, : lengths[j]], k) < threshold:
                        continue
                ri, rj = find(i), find(j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
    return np.array([find(i) for i in range(len(sketches))], dtype=np.int64), checks


@njit(cache=True, nogil=True)
def _find(parent, i):
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        parent[i], i = root, parent[i]
    return root


@njit(cache=True, nogil=True)
def _sketch_jaccard(sketches, lengths, i, j, k):
    """As the reference: shared hashes among the k smallest of the union, over those (<= k)."""
    la, lb = lengths[i], lengths[j]
    if la == 0 and lb == 0:
        return 1.0
    x = 0
    y = 0
    union = 0
    shared = 0
    while union < k and (x < la or y < lb):
        if y >= lb or (x < la and sketches[i, x] < sketches[j, y]):
            x += 1
        elif x >= la or sketches[j, y] < sketches[i, x]:
            y += 1
        else:
            shared += 1
            x += 1
            y += 1
        union += 1
    return shared / union


@njit(cache=True, nogil=True)
def _join(parent, head, tail, nxt, a, b):
    """Union of the components rooted at a and b (smaller root wins); their member lists are spliced."""
    new_root, old_root = min(a, b), max(a, b)
    parent[old_root] = new_root
    if head[old_root] >= 0:
        if head[new_root] >= 0:
            nxt[tail[new_root]] = head[old_root]
        else:
            head[new_root] = head[old_root]
        tail[new_root] = tail[old_root]
        head[old_root] = -1
        tail[old_root] = -1


@njit(cache=True, nogil=True)
def link_buckets(offsets, members, sketches, lengths, k, threshold, verify, parent, edges):
    """Link the documents of each bucket; `parent` is a union-find over document indices (roots
    are the smallest member), `edges` receives one (i, j) row per link made. Returns
    (links, checks): links made (rows of `edges` used) and sketch comparisons made.

    Per bucket, each document (in order) is compared with the members of each component of
    the earlier documents, until one member links it to that component.
    """
    n = sketches.shape[0]
    head = np.full(n, -1, np.int64)  # per component root: its members among this bucket's earlier documents
    tail = np.full(n, -1, np.int64)
    nxt = np.full(n, -1, np.int64)
    roots = np.empty(n, np.int64)  # components seen in this bucket (stale entries are found again)
    stamp = np.zeros(n, np.int64)
    tick = 0
    links = 0
    checks = 0
    for bucket in range(len(offsets) - 1):
        n_roots = 0
        for x in range(offsets[bucket], offsets[bucket + 1]):
            i = members[x]
            tick += 1
            live = 0
            for r in range(n_roots):  # distinct current roots
                root = _find(parent, roots[r])
                if stamp[root] != tick:
                    stamp[root] = tick
                    roots[live] = root
                    live += 1
            n_roots = live
            for r in range(n_roots):
                root = _find(parent, roots[r])
                own = _find(parent, i)
                if root == own:
                    continue
                member = head[root]
                while member >= 0:
                    if verify:
                        checks += 1
                        linked = _sketch_jaccard(sketches, lengths, i, member, k) >= threshold
                    else:
                        linked = True
                    if linked:
                        edges[links, 0] = i
                        edges[links, 1] = member
                        links += 1
                        _join(parent, head, tail, nxt, own, root)
                        break
                    member = nxt[member]
            root = _find(parent, i)  # i joins its component's list of this bucket
            nxt[i] = -1
            if head[root] >= 0:
                nxt[tail[root]] = i
            else:
                head[root] = i
            tail[root] = i
            roots[n_roots] = root
            n_roots += 1
        for x in range(offsets[bucket], offsets[bucket + 1]):  # lists are per bucket
            i = members[x]
            root = _find(parent, i)
            head[root] = -1
            tail[root] = -1
            nxt[i] = -1
    return links, checks
