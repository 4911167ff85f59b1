"""corpuskit.gpu: CuPy kernels with NumPy references. Imports nothing of the pipeline."""
