# Two commands on a fresh machine:  make demo   (install + main job)   and   make test
PY     ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PRESET ?= quick
OUT    ?= reports
# pytest-xdist workers; the TF test processes each use the machine's cores, 2 fits a 2-core box
WORKERS ?= 2

.PHONY: install demo test test-jax clean

$(BIN)/cnnkit: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,jupyter]"
	touch $@

install: $(BIN)/cnnkit

demo: install
	$(BIN)/cnnkit demo --out $(OUT) --preset $(PRESET)

test: install
	$(BIN)/python -m pytest -n $(WORKERS) --durations=15
	$(MAKE) test-jax

# the layer and model tests again on the JAX backend (the backend of the GPU machine); tiny inputs make
# XLA's compile time the cost, and its optimisations buy nothing at that size (-40 % CPU time measured)
test-jax: install
	KERAS_BACKEND=jax JAX_DISABLE_MOST_OPTIMIZATIONS=1 $(BIN)/python -m pytest -n $(WORKERS) -m "backend and not slow" --durations=10

clean:
	rm -rf $(VENV) $(OUT) runs .pytest_cache
