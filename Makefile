# Set-up and main jobs. `make run` and `make test` work on a fresh clone: they create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED ?= ../shared

.PHONY: run test install browser demo-model bench bench-deps docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# reinstall when the project metadata changes
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,ray]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/translate run seeds/
	$(BIN)/translate export --format tmx -o aligned/corpus.tmx
	$(BIN)/translate export --format jsonl -o aligned/corpus.jsonl

# the review UI tests drive Debian's Chromium; install it when missing (as root, or through sudo)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-hosny-amiri >/dev/null; }

test: install browser
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

# training and benchmarks need PyTorch (the CPU wheel: never let pip pick a multi-GB CUDA build)
bench-deps: install
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet '.[bench]'

demo-model: bench-deps
	$(BIN)/python tools/train_demo_model.py --data-dir $(SHARED)/data --out models/demo-ar-en-tatoeba

bench: bench-deps
	$(BIN)/python bench/segment_eval.py
	$(BIN)/python bench/demo_model_eval.py
	$(BIN)/python bench/quality_eval.py
	$(BIN)/python bench/align_eval.py
	$(BIN)/python bench/vocab_map_eval.py
	$(BIN)/python bench/translate_speed.py
	$(BIN)/python bench/review_latency.py
	$(BIN)/python bench/encoding_eval.py

# the API reference (translate.__all__) from the docstrings, into build/docs/ (not committed)
docs: install
	$(BIN)/pip install --quiet -e '.[docs]'
	$(BIN)/python -m pdoc translate '!translate.' -o build/docs
	@echo "API reference: build/docs/translate.html"

clean:
	rm -rf $(VENV) build *.egg-info
