"""corpuskit.lm: n-gram language models, decoding strategies and evaluation metrics."""
