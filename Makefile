# Two commands on a fresh machine with only python3:
#   make run   - install, import seeds/ if the archive is empty, serve http://127.0.0.1:5000
#                (another port: make run PORT=5001; another archive: make run HOME_DIR=/path)
#   make test  - install with the test extra, lint (ruff), type-check (mypy) and run the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOME_DIR ?= $(CURDIR)
PORT     ?= 5000

.PHONY: run test install clean

$(BIN)/archive: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python -c "from webui.i18n import compile_catalogs; compile_catalogs()"
	touch $@

install: $(BIN)/archive

run: install
	ARCHIVE_HOME=$(HOME_DIR) $(BIN)/archive serve --seed --host 127.0.0.1 --port $(PORT)

test: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -rs

clean:
	rm -rf $(VENV) index/g* index/CURRENT archive.sqlite3* catalog.npz
