"""corpuskit.embeddings: word2vec, GloVe and fastText trainers, keyed vectors and queries."""
