# Two commands do everything on a fresh machine: `make demo` and `make test`.
# torch 2.13.0 (CPU) goes in first: a plain `torch` requirement installed first would pull a
# multi-GB CUDA build. GPU users: see README "GPU".
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: venv demo test bench clean

$(BIN)/trainwell: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[dev]'
	touch $(BIN)/trainwell

venv: $(BIN)/trainwell

demo: venv
	$(BIN)/trainwell train examples/digits_mlp.yaml --out runs/demo-$$(date +%Y%m%d-%H%M%S)

test: venv
	$(BIN)/python -m pytest

bench: venv
	$(BIN)/python benchmarks/overhead.py

clean:
	rm -rf runs .pytest_cache
