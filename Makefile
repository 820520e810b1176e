# Thin wrappers over dev.py, which needs nothing but Python 3.11+.
# `make help` lists the targets.

PYTHON ?= python3

.DEFAULT_GOAL := help
.PHONY: help migrate migrate-down-dev migration test lint db db-stop bench

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

migrate: ## Apply pending SQL migrations (DATABASE_URL if set, else the dev database)
	$(PYTHON) dev.py migrate

migrate-down-dev: ## Roll back the last SQL migration
	$(PYTHON) dev.py down

migration: ## Create a migration pair: make migration name=add_x
	@test -n "$(name)" || { echo "usage: make migration name=add_x" >&2; exit 2; }
	$(PYTHON) dev.py migration "$(name)"

test: ## Run the test suite (extra pytest arguments: make test ARGS="-k lock")
	$(PYTHON) dev.py test $(ARGS)

lint: ## ruff check, ruff format --check, mypy
	$(PYTHON) dev.py lint

db: ## Print the dev database URL, starting the server if needed
	$(PYTHON) dev.py db

db-stop: ## Stop the dev database server
	$(PYTHON) dev.py db-stop

bench: ## Run the benchmarks in bench/
	@if [ -f bench/run_all.py ]; then \
		$(PYTHON) dev.py setup && .venv/bin/python bench/run_all.py; \
	else \
		echo "no benchmarks yet: bench/run_all.py does not exist"; \
	fi
