# The two commands a newcomer needs: `make demo` and `make test`.
.PHONY: setup demo test bench

setup:
	@bash scripts/setup.sh

demo: setup
	@.venv/bin/python -m devenv.demo

test: setup
	@.venv/bin/python -m pytest

bench: setup
	@.venv/bin/python -m bench
