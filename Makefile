# Set-up and everyday commands. Each target creates .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: quickstart test bench install clean gpu-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel

# Stamp files: reinstall when pyproject.toml or setup.py change.
$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml setup.py
	$(BIN)/pip install -q -e ".[test]"
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: $(BIN)/python pyproject.toml setup.py
	$(BIN)/pip install -q -e ".[bench]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

## quickstart: install, then run the end-to-end demo on the bundled sample
quickstart: $(VENV)/.installed
	$(BIN)/corpuskit quickstart --dir corpuskit-quickstart

## test: install with test extras, run the whole suite (GPU tests skip without CUDA)
test: $(VENV)/.installed-test
	$(BIN)/pytest

## bench: run every benchmark (needs ../shared/data); figures go to benchmarks/RESULTS.md
bench: $(VENV)/.installed-bench
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## gpu-check: on a GPU machine with CuPy and PyTorch (no network; install first with
## `pip install --no-deps --no-build-isolation -e .`): every GPU test (cupy vs reference and vs
## the emulator, the full emulator matrix), compute-sanitizer racecheck and memcheck on one small
## shape per kernel, the transformer's GPU path (a training smoke test against the CPU path),
## then benchmarks/gpu_bench.py. GPU_PYTHON is the interpreter that has them;
## the commands run from tests/ so the repo's tokenizers/ folder cannot shadow Hugging Face's.
GPU_PYTHON ?= python3
gpu-check:
	cd tests && $(GPU_PYTHON) -m pytest gpu -m "cuda or gpu_full or not gpu_full" -q -rs
	cd tests && $(GPU_PYTHON) -m pytest lm/transformer/test_gpu_path.py -q -rs
	cd tests && $(GPU_PYTHON) -m corpuskit.gpu.smoke
	cd tests && $(GPU_PYTHON) -m corpuskit.gpu.smoke --sanitize racecheck
	cd tests && $(GPU_PYTHON) -m corpuskit.gpu.smoke --sanitize memcheck
	$(GPU_PYTHON) benchmarks/gpu_bench.py

clean:
	rm -rf $(VENV) corpuskit-quickstart .pytest_cache
