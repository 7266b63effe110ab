# One entry point for the project's chores. CORPUS=DIR for the benchmark.
PY := .venv/bin/python
CORPUS ?= /tmp/fp-dev-corpus

.PHONY: setup test lint typecheck check bench corpus demo

setup:
	./scripts/setup.sh

test:
	$(PY) -m pytest

lint:
	$(PY) -m ruff check fp client indexer tests bench scripts

typecheck:
	$(PY) -m mypy

check: lint typecheck test

corpus:
	test -d $(CORPUS) || ../shared/corpus/dev-corpus.sh $(CORPUS)

bench: corpus
	$(PY) bench/foundation.py $(CORPUS)

demo:
	$(PY) scripts/demo.py
