"""corpuskit.tokenizers: BPE, byte-level BPE, WordPiece and Unigram trainers and tokenizers."""
