"""corpuskit: raw text to trained models.

The core package holds the document model, readers, writers, pipeline steps and the runner.
Tokenizers, embeddings and language models are plugin packages found through entry points.
Importing this package is cheap: heavy dependencies load inside the functions that need them.
"""

from corpuskit.document import Document, Drop, Rejected

__version__ = "0.1.0"

__all__ = ["Document", "Drop", "Rejected", "__version__"]
