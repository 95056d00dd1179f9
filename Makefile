# Every target sets itself up: a fresh clone needs only Python 3.10+ and make.
# Each set-up stage prints one line before it starts, so the first run (about a minute of pip)
# never sits silent.
PY := .venv/bin/python
STAMP := .venv/.installed
TORCH_STAMP := .venv/.torch-extra
# compat mode installs the clone as a plain sys.path entry. setuptools' default editable mode adds
# an import hook that runs only after the normal path search, so Python started in the folder that
# holds the clone (itself named autograd_lite) found that folder first, as an empty namespace
# package: "ImportError: cannot import name 'Tensor' from 'autograd_lite' (unknown location)".
COMPAT := --config-settings editable_mode=compat

.PHONY: demo test bench lint format clean torch

$(STAMP): pyproject.toml
	@test -x $(PY) || { echo "==> creating the Python environment in .venv"; python3 -m venv .venv; }
	@echo "==> installing autograd_lite and its dev and examples extras into .venv (first time: about a minute)"
	$(PY) -m pip install --quiet -e '.[dev,examples]' $(COMPAT)
	@touch $@

# PyTorch for the cross-checks (the [torch] extra, one exact release). Optional: if it cannot be
# installed the suite still runs, and pytest lists the skipped cross-checks at the end.
$(TORCH_STAMP): $(STAMP)
	@echo "==> installing the [torch] extra (PyTorch 2.13.0, CPU) for the cross-checks against PyTorch"
	@if $(PY) -m pip install --quiet -e '.[torch]' $(COMPAT); then \
		echo installed > $@; \
	else \
		echo "==> PyTorch could not be installed: the PyTorch cross-checks will be skipped (retry: make torch)"; \
		echo missing > $@; \
	fi

torch:
	rm -f $(TORCH_STAMP)
	$(MAKE) $(TORCH_STAMP)

demo: $(STAMP)
	@echo "==> running the demo tour (examples/demo.py); pictures go to examples/out/"
	$(PY) examples/demo.py

test: $(STAMP) $(TORCH_STAMP)
	@if grep -q missing $(TORCH_STAMP); then \
		echo "==> PyTorch is not installed: its cross-checks will be skipped (retry: make torch)"; fi
	@echo "==> running the test suite; skipped tests and the reason for each are listed at the end"
	$(PY) -m pytest -rs

bench: $(STAMP)
	@echo "==> installing the benchmark's references (PyTorch, micrograd) where they can be had"
	-$(PY) -m pip install --quiet -e '.[torch,bench]' $(COMPAT)
	@echo "==> running the benchmark (bench/bench.py)"
	$(PY) bench/bench.py

lint: $(STAMP)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: $(STAMP)
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

clean:
	rm -rf .venv build *.egg-info
