"""corpuskit.lm.ngram: n-gram counting, smoothing (MLE, add-k, KN, modified KN, Stupid Backoff), ARPA.

    from corpuskit.lm.ngram import NGramTrainer, NGramModel
    model = NGramTrainer(order=3).train(open("train.txt"))
    model.save("model.arpa")                  # KenLM and SRILM read it
    model.perplexity(["a held out line"])
    state, out = State(), State()             # kenlm's word-by-word API
    model.BeginSentenceWrite(state)
    model.BaseScore(state, "a", out)          # log10 p(a | <s>)
    generate(model, [model.sentence_ids("a")], DecodingConfig())   # a corpuskit.lm.decoding LanguageModel

Heavy parts (numba kernels) are imported lazily by the functions that use them.
"""

from corpuskit.lm.ngram.counting import NGramCounts, count_ngrams
from corpuskit.lm.ngram.kenlm_api import FullScoreReturn, State
from corpuskit.lm.ngram.model import NGramModel
from corpuskit.lm.ngram.trainer import NGramConfig, NGramTrainer

__all__ = ["FullScoreReturn", "NGramConfig", "NGramCounts", "NGramModel", "NGramTrainer", "State", "count_ngrams"]
