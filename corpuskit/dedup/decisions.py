"""Dedup as map → reduce: documents named by position, duplicates as pairs, decisions per shard.

A document is named by its global id `gid = shard << 40 | position` (its position among the
documents of its shard that reached the step), so sorting gids sorts documents in corpus order
and "the earliest document" is the smallest gid. A dedup step's reduce ends in *pairs*
(duplicate gid, kept gid) written per shard of the duplicate; the last round, one `decide`
task per shard, turns a shard's pairs into its decisions file: positions to drop, each with the
document's id (checked when the document comes by) and the kept document's id.

A worker loads only its own shard's decisions: O(duplicates in the shard).
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from corpuskit.document import CorpusError, Document, Drop
from corpuskit.files import write_json_atomic
from corpuskit.steps import GlobalStep, GlobalWork, ReduceTask, StepStateError

SHARD_SHIFT = 40  # up to 2^40 documents per shard, 2^23 shards
DECISIONS_FORMAT = "corpuskit.dedup-decisions/2"


def gids(shard: int, positions: np.ndarray) -> np.ndarray:
    """Global ids of positions within a shard (int64)."""
    return (np.int64(shard) << np.int64(SHARD_SHIFT)) | np.asarray(positions, dtype=np.int64)


def shard_of(gid: np.ndarray) -> np.ndarray:
    return np.asarray(gid, dtype=np.int64) >> np.int64(SHARD_SHIFT)


def position_of(gid: np.ndarray) -> np.ndarray:
    return np.asarray(gid, dtype=np.int64) & np.int64((1 << SHARD_SHIFT) - 1)


class IdWriter:
    """Streams a shard's document ids to `ids.jsonl` in its map folder (one JSON string a line)."""

    def __init__(self, out: Path) -> None:
        self.handle = open(out / "ids.jsonl", "w", encoding="utf-8")
        self.count = 0

    def add(self, doc_id: str) -> None:
        self.handle.write(json.dumps(doc_id, ensure_ascii=False) + "\n")
        self.count += 1

    def close(self) -> None:
        self.handle.close()


def read_ids(map_dir: Path) -> list[str]:
    with open(map_dir / "ids.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def write_pairs(out: Path, duplicate: np.ndarray, kept: np.ndarray) -> None:
    """Write pairs (duplicate gid, kept gid) into `out/pairs-<shard>.npy`, one file per shard."""
    duplicate = np.asarray(duplicate, dtype=np.int64)
    kept = np.asarray(kept, dtype=np.int64)
    shards = shard_of(duplicate)
    for shard in np.unique(shards):
        mask = shards == shard
        np.save(out / f"pairs-{int(shard):05d}.npy", np.stack([duplicate[mask], kept[mask]], axis=1))


def decide(work: GlobalWork, shard: int, sources: Iterable[str], out: Path) -> dict[str, int]:
    """The decisions of one shard from the pairs the `sources` tasks wrote.

    Memory: the shard's pairs, its ids, and one other shard's ids at a time.
    """
    parts = [np.load(path) for name in sources if (path := work.task_dir(name) / f"pairs-{shard:05d}.npy").exists()]
    pairs = np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.int64)
    pairs = pairs[np.argsort(pairs[:, 0], kind="stable")]
    own_ids = read_ids(work.map_dir(shard))
    kept_ids = [""] * len(pairs)
    kept_shards = shard_of(pairs[:, 1])
    for other in np.unique(kept_shards):
        ids = own_ids if other == shard else read_ids(work.map_dir(int(other)))
        for row in np.flatnonzero(kept_shards == other):
            kept_ids[row] = ids[int(position_of(pairs[row, 1]))]
    positions = position_of(pairs[:, 0])
    write_json_atomic(out / "decisions.json", {
        "format": DECISIONS_FORMAT,
        "shard": shard,
        "documents": len(own_ids),
        "positions": positions.tolist(),
        "ids": [own_ids[int(p)] for p in positions],
        "duplicate_of": kept_ids,
    })
    return {}


class ShardDecisions:
    """One shard's drop list: position -> (document id, kept document's id)."""

    def __init__(self, path: Path) -> None:
        try:
            state = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CorpusError(f"{path}: no dedup decisions for this shard; run the step's map and reduce first") from None
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        if not isinstance(state, dict) or state.get("format") != DECISIONS_FORMAT:
            raise CorpusError(f"{path}: expected a {DECISIONS_FORMAT} file")
        self.path = path
        self.documents: int = state["documents"]
        self.drop = {p: (i, d) for p, i, d in zip(state["positions"], state["ids"], state["duplicate_of"])}

    def __len__(self) -> int:
        return len(self.drop)


class DedupStep(GlobalStep):
    """A dedup step as map → reduce. Subclasses set `name` and `drop_label`, implement `map`,
    `first_rounds` (their reduce rounds, the last of which writes pairs) and `reduce` for their
    own task kinds; the `decide` round, loading and dropping are shared.

    `process` must see the shard's documents in the order `map` saw them: the decisions name
    documents by position, and each dropped document's id is checked on the way.
    """

    drop_label: ClassVar[str] = "duplicate"
    decisions: ShardDecisions | None = None
    _position = 0

    @classmethod
    def part_rows(cls) -> int:
        """Rows a reduce task takes per band or hash range (bounds its memory; see the docstring)."""
        return 4_000_000

    @abstractmethod
    def first_rounds(self, work: GlobalWork) -> list[list[ReduceTask]]:
        """The step's own reduce rounds; the last one writes pairs (`write_pairs`)."""

    def reduce_rounds(self, work: GlobalWork) -> list[list[ReduceTask]]:
        rounds = self.first_rounds(work)
        sources = [task.name for task in rounds[-1]] if rounds else []
        decide_round = [ReduceTask(f"decide-{shard:05d}", "decide", {"shard": shard, "sources": sources}) for shard in range(work.n_shards)]
        return rounds + [decide_round]

    def reduce(self, task: ReduceTask, work: GlobalWork, out: Path) -> dict[str, int]:
        if task.kind == "decide":
            return decide(work, task.params["shard"], task.params["sources"], out)
        return self.reduce_own(task, work, out)

    @abstractmethod
    def reduce_own(self, task: ReduceTask, work: GlobalWork, out: Path) -> dict[str, int]:
        """Run one of the step's own reduce tasks (every kind but `decide`)."""

    def load_shard_state(self, work: GlobalWork, shard: int) -> None:
        self.decisions = ShardDecisions(work.task_dir(f"decide-{shard:05d}") / "decisions.json")
        self._position = 0

    def process(self, doc: Document) -> Document | Drop:
        if self.decisions is None:
            raise CorpusError(f"{self.name}: no decisions loaded; run fit() or the pipeline's map and reduce first")
        position = self._position
        self._position += 1
        decided = self.decisions.drop.get(position)
        if position >= self.decisions.documents or (decided is not None and decided[0] != doc.id):
            raise StepStateError(
                f"{self.decisions.path}: document {position} of this shard is {doc.id!r}, but the decisions were made for "
                f"{decided[0] if decided else 'fewer documents'!r}; the step's input changed since its map ran (rerun with --overwrite)"
            )
        if decided is None:
            return doc
        doc.metadata["duplicate_of"] = decided[1]
        return Drop(self.drop_label)


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """[1, 2, 3, 4, 5], 2 -> [1, 2], [3, 4], [5]."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
