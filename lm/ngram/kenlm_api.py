"""kenlm's stateful query API on `NGramModel`: `State`, `BeginSentenceWrite`, `BaseScore`, ...

A facade over the decoding state (`state.py`): a `State` holds one row's context nodes, and
`BaseFullScore` is one `advance` of a one-row state, the same step `NGramModel.step` and the
sentence scorer take. Scores are log10, as kenlm's.

    state, out = State(), State()
    model.BeginSentenceWrite(state)
    total = 0.0
    for word in "the cat sat".split():
        total += model.BaseScore(state, word, out)
        state, out = out, state
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpuskit.lm.ngram import state as ctx
from corpuskit.lm.ngram.vocab import UNK_ID


class State:
    """One sentence position's context (kenlm.State): equal states score every continuation alike.

    Hashable and ordered, so it can key a hypothesis-recombination table.
    """

    __slots__ = ("nodes",)

    def __init__(self) -> None:
        self.nodes: tuple[int, ...] = ()  # node of the last m+1 words at m, KenLM's minimal context

    def __eq__(self, other: object) -> bool:
        return isinstance(other, State) and self.nodes == other.nodes

    def __lt__(self, other: "State") -> bool:
        return self.nodes < other.nodes

    def __hash__(self) -> int:
        return hash(self.nodes)

    def __copy__(self) -> "State":
        out = State()
        out.nodes = self.nodes
        return out

    def __deepcopy__(self, memo: dict) -> "State":
        return self.__copy__()

    def __repr__(self) -> str:
        return f"State(nodes={self.nodes})"


@dataclass(frozen=True)
class FullScoreReturn:
    """kenlm's FullScoreReturn: log10 p, the length of the n-gram that matched, whether the word is OOV."""

    log_prob: float
    ngram_length: int
    oov: bool


class KenLMQueries:
    """kenlm.Model's word-by-word methods; mixed into `NGramModel` (needs its vocabulary and state)."""

    def __contains__(self, word: str) -> bool:
        """True for a word of the vocabulary other than `<unk>` (`<s>` and `</s>` are in), as kenlm."""
        return self.vocab.index.get(word, UNK_ID) != UNK_ID  # type: ignore[attr-defined]

    def BeginSentenceWrite(self, state: State) -> None:
        """Make `state` the context at a sentence start (`<s>`)."""
        begin = ctx.begin(self, 1, bos=True)  # type: ignore[arg-type]
        state.nodes = tuple(begin.nodes[0, : begin.lengths[0]].tolist())

    def NullContextWrite(self, state: State) -> None:
        """Make `state` the empty context."""
        state.nodes = ()

    def BaseFullScore(self, in_state: State, word: str, out_state: State) -> FullScoreReturn:
        """log10 p(word | in_state), the matched n-gram length and OOV flag; `out_state` becomes the context after `word`."""
        wid = self.vocab.index.get(word, UNK_ID)  # type: ignore[attr-defined]
        width = max(self.order - 1, 1)  # type: ignore[attr-defined]
        nodes = np.array([in_state.nodes + (-1,) * (width - len(in_state.nodes))], dtype=np.int64)  # a one-row state
        lengths = np.array([len(in_state.nodes)], dtype=np.int64)
        scores, matched = ctx.advance_in_place(self, nodes, lengths, np.array([wid], dtype=np.int64), ctx.ONE_ROW)  # type: ignore[arg-type]
        out_state.nodes = tuple(nodes[0, : lengths[0]].tolist())
        return FullScoreReturn(float(scores[0]), int(matched[0]), wid == UNK_ID)

    def BaseScore(self, in_state: State, word: str, out_state: State) -> float:
        """log10 p(word | in_state); `out_state` becomes the context after `word`."""
        return self.BaseFullScore(in_state, word, out_state).log_prob

