"""corpuskit.gpu: CUDA kernels for the transformer LM (attention, softmax, cross-entropy, RMSNorm)
behind one API (`corpuskit.gpu.ops`) with three backends: CuPy on a GPU, the same CUDA source on
the CPU through our emulator, and float64 NumPy references. Imports nothing of the pipeline, and
nothing heavy at import time (CuPy loads when the cupy backend is first used)."""
