"""Intrinsic evaluation: analogy files (questions-words format) and word-pair similarity files.

Both follow gensim's conventions so figures are comparable: words are matched case-insensitively
against the `restrict_vocab` most frequent words (the most frequent spelling wins), questions or
pairs with a missing word are skipped and counted, not scored.

    analogies = evaluate_analogies(kv, default_dataset("questions-words.txt"))
    pairs = evaluate_word_pairs(kv, default_dataset("wordsim353.tsv"))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from corpuskit.document import CorpusError
from corpuskit.embeddings.keyed_vectors import KeyedVectors
from corpuskit.files import open_text

DEFAULT_ANALOGIES = "questions-words.txt"
DEFAULT_PAIRS = ("wordsim353.tsv", "simlex999.txt")


def default_dataset(name: str) -> Path:
    """Path of an evaluation file gensim's package ships (questions-words.txt, wordsim353.tsv, simlex999.txt)."""
    from gensim.test.utils import datapath

    return Path(datapath(name))


@dataclass
class Section:
    name: str
    correct: int = 0
    total: int = 0  # questions answered (all words in vocabulary)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass
class AnalogyResult:
    """Per-section and total accuracy over the questions whose four words are all in vocabulary."""

    sections: list[Section]
    questions: int  # questions in the file
    covered: int  # questions answered
    correct: int = field(init=False)

    def __post_init__(self) -> None:
        self.correct = sum(s.correct for s in self.sections)

    @property
    def accuracy(self) -> float:
        return self.correct / self.covered if self.covered else 0.0

    def to_dict(self) -> dict:
        return {
            "accuracy": self.accuracy, "correct": self.correct, "covered": self.covered, "questions": self.questions,
            "sections": {s.name: {"accuracy": s.accuracy, "correct": s.correct, "total": s.total} for s in self.sections},
        }


@dataclass
class PairsResult:
    """Spearman (and Pearson) correlation between cosine similarity and human scores."""

    spearman: float
    pearson: float
    covered: int
    pairs: int

    def to_dict(self) -> dict:
        return {"spearman": self.spearman, "pearson": self.pearson, "covered": self.covered, "pairs": self.pairs}


def restricted_index(kv: KeyedVectors, restrict_vocab: int | None, case_insensitive: bool) -> dict[str, int]:
    """word (lower-cased when case_insensitive) -> id among the first restrict_vocab words; frequent spelling wins."""
    index: dict[str, int] = {}
    for i, word in enumerate(kv.index_to_key[:restrict_vocab]):
        index.setdefault(word.lower() if case_insensitive else word, i)
    return index


def read_analogies(path: str | Path, case_insensitive: bool = True) -> list[tuple[str, list[tuple[str, str, str, str]]]]:
    """Sections of a questions-words file: ': name' lines start a section, then 'a b c d' per line."""
    sections: list[tuple[str, list[tuple[str, str, str, str]]]] = []
    with open_text(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith(":"):
                sections.append((line[1:].strip(), []))
                continue
            words = line.lower().split() if case_insensitive else line.split()
            if len(words) != 4:
                raise CorpusError(f"{path}:{lineno}: expected 4 words in an analogy question, got {len(words)}")
            if not sections:
                raise CorpusError(f"{path}:{lineno}: question before the first ': section' line")
            sections[-1][1].append((words[0], words[1], words[2], words[3]))
    return sections


def evaluate_analogies(
    kv: KeyedVectors,
    path: str | Path,
    restrict_vocab: int = 30_000,
    case_insensitive: bool = True,
    method: str = "add",
    batch_size: int = 512,
) -> AnalogyResult:
    """Accuracy on a questions-words file: a b c d is right when d is the best answer to a : b :: c : ?.

    The input words a, b, c are never answers. method 'add' = 3CosAdd, 'mul' = 3CosMul.
    Memory: O(batch_size * restrict_vocab).
    """
    if method not in ("add", "mul"):
        raise ValueError(f"analogy method must be 'add' or 'mul', not {method!r}")
    index = restricted_index(kv, restrict_vocab, case_insensitive)
    unit = kv.unit_vectors[:restrict_vocab]
    results, questions, covered = [], 0, 0
    for name, items in read_analogies(path, case_insensitive):
        questions += len(items)
        known = np.array([[index[w] for w in q] for q in items if all(w in index for w in q)], dtype=np.int64).reshape(-1, 4)
        section = Section(name, total=len(known))
        for start in range(0, len(known), batch_size):
            batch = known[start : start + batch_size]
            a, b, c, d = batch.T
            if method == "add":
                scores = (unit[b] - unit[a] + unit[c]) @ unit.T  # (B, V)
            else:
                cos_a, cos_b, cos_c = ((unit[x] @ unit.T + 1.0) / 2.0 for x in (a, b, c))
                scores = cos_b * cos_c / (cos_a + 1e-6)
            rows = np.arange(len(batch))
            for column in (a, b, c):
                scores[rows, column] = -np.inf
            section.correct += int((scores.argmax(axis=1) == d).sum())
        covered += section.total
        results.append(section)
    return AnalogyResult(results, questions, covered)


def read_word_pairs(path: str | Path, case_insensitive: bool = True) -> list[tuple[str, str, float]]:
    """'word1<TAB>word2<TAB>score' lines ('#' starts a comment); whitespace also separates."""
    pairs = []
    with open_text(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t") if "\t" in line else line.split()
            if len(parts) < 3:
                raise CorpusError(f"{path}:{lineno}: expected 'word1 word2 score', got {line[:60]!r}")
            try:
                score = float(parts[2])
            except ValueError:
                raise CorpusError(f"{path}:{lineno}: score {parts[2]!r} is not a number") from None
            a, b = (parts[0].lower(), parts[1].lower()) if case_insensitive else (parts[0], parts[1])
            pairs.append((a, b, score))
    return pairs


def evaluate_word_pairs(
    kv: KeyedVectors, path: str | Path, restrict_vocab: int = 300_000, case_insensitive: bool = True
) -> PairsResult:
    """Spearman/Pearson correlation of cosine similarity with the file's scores, over pairs in vocabulary."""
    from scipy import stats

    index = restricted_index(kv, restrict_vocab, case_insensitive)
    pairs = read_word_pairs(path, case_insensitive)
    unit = kv.unit_vectors
    model, human = [], []
    for a, b, score in pairs:
        if a in index and b in index:
            model.append(float(unit[index[a]] @ unit[index[b]]))
            human.append(score)
    if len(model) < 2:
        return PairsResult(float("nan"), float("nan"), len(model), len(pairs))
    return PairsResult(float(stats.spearmanr(model, human)[0]), float(stats.pearsonr(model, human)[0]), len(model), len(pairs))
