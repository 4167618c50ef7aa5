# Two commands matter on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Web processes of `make serve` (README: one per core), beside the one playground process that
# serves the Gradio playgrounds (their queues live in its memory; the web processes pass
# /playground/ on to it). uvicorn's supervisor kills a worker that takes more than 5 s to answer its
# health ping, which a busy, shared machine can make a working one do; 30 s leaves room (Procfile).
# Idle keep-alive connections stay open 75 s (uvicorn's default is 5 s), longer than a proxy keeps its
# own (nginx: 60 s), so the proxy closes them: a server closing one just as the proxy or a client
# sends its next request on it would fail that request with a closed connection.
WORKERS ?= 1
# Every process writes its Prometheus values here; /metrics sums them (common/metrics.py).
METRICS_DIR = $${HUB_DATA_DIR:-$(CURDIR)/var}/metrics
export PATH := $(BIN):$(PATH)

.PHONY: install run serve playground worker beat inference test test-fast lint format migrate demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall whenever the declared dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# Browser libraries (KaTeX, mermaid) come from npm as declared in package.json/package-lock.json;
# the build step copies their distribution files into the ignored frontend/static/vendor/.
VENDOR_STAMP := frontend/static/vendor/.built
$(VENDOR_STAMP): package.json package-lock.json frontend/build/vendor.mjs
	@command -v npm >/dev/null 2>&1 || { echo "make: npm not found; install Node.js 20 or newer (it builds frontend/static/vendor/)" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent build
	touch $@

install: $(VENV)/.installed $(VENDOR_STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	HUB_SITE_URL=http://$(HOST):$(PORT)/ $(BIN)/python manage.py seed_demo

## run: the whole hub (web, workers, beat, inference engine) with demo content on the embedded default
run: demo
	@echo ""
	@echo "  LLM Hub is starting at http://$(HOST):$(PORT)/"
	@echo "  Demo login: alice / hub-demo-password  (also bob, carol; same password)"
	@echo ""
	rm -rf $(METRICS_DIR) && mkdir -p $(METRICS_DIR)
	PROMETHEUS_MULTIPROC_DIR=$(METRICS_DIR) HUB_DEMO=1 HUB_SITE_URL=http://$(HOST):$(PORT)/ HUB_HOST=$(HOST) HUB_PORT=$(PORT) $(BIN)/python -m common.procs -f Procfile

## serve: the web (uvicorn on config.asgi, WORKERS=N processes) and the playground process
serve: migrate
	rm -rf $(METRICS_DIR) && mkdir -p $(METRICS_DIR)
	PROMETHEUS_MULTIPROC_DIR=$(METRICS_DIR) HUB_WEB_WORKERS=$(WORKERS) HUB_HOST=$(HOST) HUB_PORT=$(PORT) $(BIN)/python -m common.procs -f Procfile --only web,playground

## playground: the playground process alone (config.playground_asgi, at HUB_PLAYGROUND_URL)
playground: migrate
	$(BIN)/python manage.py playground_server

## worker: one Celery worker for both queues
worker: install
	$(BIN)/celery -A config worker -Q default,gpu --loglevel INFO

beat: install
	$(BIN)/celery -A config beat --loglevel INFO

## inference: the inference engine (playgrounds, inference APIs, arena)
inference: migrate
	$(BIN)/python manage.py inference_engine

## test: the whole suite (tests use their own data folder, var/test)
test: install
	HUB_DATA_DIR=$(CURDIR)/var/test $(BIN)/pytest $(PYTEST_ARGS)

test-fast: install
	HUB_DATA_DIR=$(CURDIR)/var/test $(BIN)/pytest -m "not slow and not e2e" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf var/test .pytest_cache
