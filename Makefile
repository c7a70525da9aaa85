# Two commands matter on a fresh machine:
#   make demo   - venv, install, fresh SQLite database, demo data, serve on http://127.0.0.1:8000
#   make test   - venv, install with test extras, (Debian chromium if missing), pytest
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB := var/demo.db
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: demo test lint serve worker migrate browser fonts clean bench
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed fonts
	mkdir -p var
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	EXAM_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/exam demo --port $(PORT)

# The CJK font printed PDFs embed (tickets, door lists...): printing refuses to run without one.
fonts:
	@if [ -f "$(CJK_FONT)" ] || [ -n "$$EXAM_PRINT_FONT_PATH" ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian fonts-wqy-zenhei (the CJK font printed PDFs embed)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null; \
	else echo "NOTE: no CJK font at $(CJK_FONT): install fonts-wqy-zenhei (as root) or set EXAM_PRINT_FONT_PATH; printing will refuse to run"; fi

# Debian's chromium for the end-to-end browser test (no browser can be downloaded here).
browser: fonts
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian chromium (and a CJK font for readable screenshots) for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; \
	else echo "NOTE: chromium is not installed and cannot be installed here; the browser test will be skipped"; fi

test: $(VENV)/.installed-test browser
	mkdir -p var/screenshots
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/mypy exam_server grading item_bank models omr proctoring
	$(BIN)/lint-imports

serve: $(VENV)/.installed fonts
	$(BIN)/exam db upgrade
	$(BIN)/exam serve --port $(PORT)

worker: $(VENV)/.installed fonts
	$(BIN)/exam worker

bench: $(VENV)/.installed
	$(BIN)/python bench/delivery.py --candidates 500

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
