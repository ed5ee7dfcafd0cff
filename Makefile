# The Neural Network Field Guide. `make book` and `make test` are all a reader needs;
# both create .venv and install everything on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
NB     ?=
WORKERS ?= 2

export TQDM_DISABLE := 1
export FIELDGUIDE_THREADS := 1
export FIELDGUIDE_STATIC := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv book instructor test execute student lint dist serve clean

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt companion/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q -e companion
	touch $@

## book: build the HTML book into _build/html (stored outputs, no execution)
book: venv
	$(PY) tools/build_book.py _build/html

## instructor: the book with every solution shown open, into _build/instructor
instructor: venv
	FIELDGUIDE_INSTRUCTOR=1 $(PY) tools/build_book.py _build/instructor

## student: notebooks with solutions removed, into _build/student
student: venv
	$(PY) tools/student.py _build/student

## test: ruff, unit and structure tests, nbval (strict) on every chapter, a second seed; then the HTML build
## (warnings are errors) and the tests of the built pages
test: venv
	$(VENV)/bin/ruff check companion tests tools book conftest.py
	$(PY) -m pytest -n $(WORKERS) --dist loadscope tests/companion tests/book book --nbval --nbval-sanitize-with book/nbval-sanitize.cfg
	$(PY) tools/build_book.py _build/html
	$(PY) -m pytest -n $(WORKERS) tests/html tests/colab

## execute: re-run chapters and store their outputs (NB=path/to/chapter.py, default: all)
execute: venv
	$(PY) tools/execute_notebook.py $(if $(NB),$(NB),$(shell $(PY) tools/chapters.py))

lint: venv
	$(VENV)/bin/ruff check companion tests tools book
	$(VENV)/bin/ruff format --check companion tests tools

dist: venv
	rm -rf companion/dist
	$(PY) -m build --outdir companion/dist companion

serve: book
	$(PY) -m http.server --directory _build/html 8000

clean:
	rm -rf _build companion/dist .pytest_cache
