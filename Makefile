# Two commands do all the set-up on a fresh machine: `make dev` and `make test`.
# Both create .venv and install what they need (only Python 3.11 and make are assumed).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
export PYTHONPATH := layers:functions/api:.
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: dev test test-fast template bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

dev: $(STAMP)  ## the backend on embedded DynamoDB + WeChat stand-in at http://127.0.0.1:8000
	$(BIN)/python -m infra.local_stack

# Two runs: the in-process moto of the fast tests patches botocore process-wide, while the e2e and
# contention tests talk to a real local stack (moto's server) in a subprocess.
test: $(STAMP)  ## the whole suite (unit, integration, api, then e2e and contention)
	$(BIN)/python -m pytest -m "not slow and not e2e"
	$(BIN)/python -m pytest -m "slow or e2e"

test-fast: $(STAMP)  ## everything but the slow contention and e2e tests
	$(BIN)/python -m pytest -m "not slow and not e2e"

template: $(STAMP)  ## regenerate template.yaml from the Chalice routes and the models
	$(BIN)/python -m infra.template_gen

bench: $(STAMP)  ## cold-start and contention figures (printed, not asserted)
	$(BIN)/python -m infra.bench

clean:
	rm -rf $(VENV) .pytest_cache .aws-sam
