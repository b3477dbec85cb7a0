# Two commands on a fresh machine:  make demo   (install + main job)   and   make test
# Test tiers:  make test       everything CI runs (.ci/run), < 15 min on 2 cores with the install
#              make test-fast  the unit tier (-m "not slow": no notebook runs, no kill/resume grid), < 5 min
PY     ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PRESET ?= quick
OUT    ?= reports
# pytest-xdist workers; the TF test processes each use the machine's cores, 2 fits a 2-core box.
# loadgroup: a module marked xdist_group runs on one worker (one fault-driver / Ray fixture, not two);
# tests/conftest.py puts slow tests first so the longest start at once.
WORKERS ?= 2
XDIST   := -n $(WORKERS) --dist loadgroup
# JUNIT=prefix also writes prefix-tf.xml / prefix-jax.xml (.ci/run prints the slowest tests from them)
JUNIT  ?=
junit   = $(if $(JUNIT),--junitxml=$(JUNIT)-$(1).xml)

.PHONY: install demo test test-fast test-jax screenshots clean

# install: the package and what the notebooks need; demo adds Jupyter (.[jupyter]), the test targets the dev
# extra (.[dev]: pytest, JAX, Ray). An extra is installed once, again when pyproject.toml changes.
$(BIN)/cnnkit: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.extra-%: $(BIN)/cnnkit
	$(BIN)/python -m pip install -q -e ".[$*]"
	touch $@

install: $(BIN)/cnnkit

demo: install $(VENV)/.extra-jupyter
	$(BIN)/cnnkit demo --out $(OUT) --preset $(PRESET)

test: install $(VENV)/.extra-dev
	$(BIN)/python -m pytest $(XDIST) --durations=15 $(call junit,tf)
	$(MAKE) test-jax

test-fast: install $(VENV)/.extra-dev
	$(BIN)/python -m pytest $(XDIST) -m "not slow" --durations=15

# what differs between backends (marker `backend`) again on JAX, the backend of the GPU machine: a separate
# process, as KERAS_BACKEND is read once per process. Tiny inputs make XLA's compile time the cost, and its
# optimisations buy nothing at that size (-40 % CPU time measured)
test-jax: install $(VENV)/.extra-dev
	KERAS_BACKEND=jax JAX_DISABLE_MOST_OPTIMIZATIONS=1 $(BIN)/python -m pytest $(XDIST) -m "backend and not slow" \
		--durations=10 $(call junit,jax)

# docs/img/index.png and one PNG per report, from a finished run in $(OUT) (headless Chromium: apt-get install
# chromium); SHOTS="01_depth_degradation 13_metric_learning" takes only those reports
SHOTS ?=
screenshots: install
	$(BIN)/python -m cnnkit.notebook.browser $(OUT) docs/img $(SHOTS)

clean:
	rm -rf $(VENV) $(OUT) runs .pytest_cache
