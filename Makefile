# Two commands do all the set-up on a fresh machine: `make dev` and `make test`.
# Both create .venv and install what they need (Python 3.12 — the Lambda runtime — or 3.11, and make).
# The Lambda runtime's version first (python3.12, infra/deploy/build_layer.py), so the suite runs on what is deployed;
# a pyenv shim of a version not selected here fails to run, hence the probe and pyenv's prefix.
PYTHON ?= $(shell for v in 3.12 3.11; do for p in "$$(command -v python$$v)" "$$(pyenv prefix $$v 2>/dev/null)/bin/python$$v"; do \
	"$$p" -c '' 2>/dev/null && { echo "$$p"; exit 0; }; done; done; command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell (cat requirements.txt requirements-dev.txt; $(PYTHON) -V) | cksum | cut -d' ' -f1)
export PYTHONPATH := layers:functions/api:.
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: dev test test-fast template bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@# a venv of another Python (say 3.11 before 3.12 was installed) is rebuilt, not reused
	@if [ -x $(BIN)/python ] && [ "$$($(BIN)/python -V)" != "$$($(PYTHON) -V)" ]; then rm -rf $(VENV); fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

# Ports: make dev API_PORT=8100 DYNAMODB_PORT=8102 WECHAT_PORT=8181 (or ARGS="--api-port 8100 ...").
# The tables are kept in .local-data/dynamodb.json across restarts; FRESH=1 starts empty (demo seed only).
DEV_ARGS = $(strip $(if $(API_PORT),--api-port $(API_PORT)) $(if $(DYNAMODB_PORT),--dynamodb-port $(DYNAMODB_PORT)) \
	$(if $(WECHAT_PORT),--wechat-port $(WECHAT_PORT)) $(if $(FRESH),--fresh) $(ARGS))

dev: $(STAMP)  ## the backend on embedded DynamoDB + WeChat stand-in at http://127.0.0.1:8000
	$(BIN)/python -m infra.local.stack $(DEV_ARGS)

.PHONY: dev-reset
dev-reset:  ## forget the local stack's saved data (the next make dev starts with the demo seed)
	rm -f .local-data/dynamodb.json

# Two runs: the in-process moto of the fast tests patches botocore process-wide, while the e2e and
# contention tests talk to a real local stack (moto's server) in a subprocess. Each run is spread over two
# workers (pytest-xdist; each its own process, moto and stacks): CI has 2 cores. The e2e and contention tests
# go a file at a time (--dist loadfile), so each module's stack starts once.
TEST_WORKERS ?= 2
test: $(STAMP) browser  ## the whole suite (unit, integration, api, then e2e and contention)
	$(BIN)/python -m pytest -m "not slow and not e2e" -n $(TEST_WORKERS)
	$(BIN)/python -m pytest -m "slow or e2e" -n $(TEST_WORKERS) --dist loadfile

# The console's browser test (tests/e2e/console/) drives Debian's Chromium with its driver, and a
# Chinese font for the screenshots: installed with apt when missing (once; nothing downloaded by the test itself).
# Without apt (say macOS) it says so and the test is skipped (under CI=true it fails instead).
.PHONY: browser
browser:  ## Chromium, chromedriver and a Chinese font for the console's browser test (apt, when missing)
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null && fc-list :lang=zh 2>/dev/null | grep -q .; \
	then :; elif command -v apt-get >/dev/null; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends \
	    chromium chromium-driver fonts-wqy-microhei >/dev/null; \
	else echo "make browser: no apt-get; install Chromium and chromedriver to run the console's browser test"; fi

test-fast: $(STAMP)  ## everything but the slow contention and e2e tests
	$(BIN)/python -m pytest -m "not slow and not e2e"

template: $(STAMP)  ## regenerate template.yaml from the Chalice routes and the models
	$(BIN)/python -m infra.deploy.template_gen

bench: $(STAMP)  ## cold start, list/stats cost at 20,000 users, a project's ratings page at 2,000 ratings, roll-ups and bulletins at 50 communities, sign-ups/s, scans/s, redemptions/s, 微实事 ballots/s and results' reads at two turnouts, messages/s, the SSM read at cold start (printed)
	$(BIN)/python -m infra.proof.bench --explain
	$(BIN)/python -m infra.proof.bench_lists
	$(BIN)/python -m infra.proof.bench_ratings
	$(BIN)/python -m infra.proof.bench_rollups
	$(BIN)/python -m infra.proof.bench_party
	$(BIN)/python -m infra.proof.bench_signup
	$(BIN)/python -m infra.proof.bench_checkin
	$(BIN)/python -m infra.proof.bench_redeem
	$(BIN)/python -m infra.proof.bench_ballot
	$(BIN)/python -m infra.proof.bench_push
	$(BIN)/python -m infra.proof.bench_token
	$(BIN)/python -m infra.proof.bench_secrets

.PHONY: burst
burst: $(STAMP)  ## issue 13's bursts over HTTP (300 sign-ups/100 places, 300 check-ins and outs, 200 redemptions/stock 20), invariants checked, figures printed; SCENARIO=signup|checkin|redeem SCALE=0.5
	$(BIN)/python -m infra.proof.burst $(if $(SCENARIO),--scenario $(SCENARIO)) $(if $(SCALE),--scale $(SCALE)) $(ARGS)

.PHONY: cost invariants faults
cost: $(STAMP)  ## DynamoDB read/write units per route, measured (docs/cost.md), then a month of each persona and of Heping
	@mkdir -p .cache
	$(BIN)/python -m infra.proof.cost_units --json .cache/units.json
	$(BIN)/python -m infra.proof.cost_month .cache/units.json

invariants: $(STAMP)  ## every invariant of docs/design.md over the tables of a running `make dev` (exit 1 on a violation)
	$(BIN)/python -m infra.proof.invariants

faults: $(STAMP)  ## injected faults: DynamoDB throttling/conflicts/lost answers on every route, WeChat down/hanging, killed runs
	$(BIN)/python -m pytest tests/api/test_faults_dynamodb.py tests/api/test_faults_wechat.py tests/integration/test_killed_runs.py

# CODE goes through the environment, not the command line make echoes (a wx.login code is a credential for 5 min).
.PHONY: smoke
smoke: $(STAMP)  ## read-only check of a deployed stage: make smoke URL=https://api.example.cn [CODE=<a wx.login code>] [ARGS=--deployed]
	@test -n "$(URL)" || { echo "make smoke: URL= is required, e.g. make smoke URL=https://api.example.cn"; exit 2; }
	@SMOKE_CODE='$(CODE)' $(BIN)/python -m infra.deploy.smoke '$(URL)' $(ARGS)

.PHONY: layer
layer:  ## the Lambda layer as `sam build` makes it (arm64, precompiled) in .cache/build/layer
	$(PYTHON) infra/deploy/build_layer.py --out .cache/build/layer

# Deployment (docs/deploy.md). SAM CLI and cfn-lint live in a venv of their own, .venv-deploy: SAM CLI pins its own
# boto3/botocore, which must never move what the functions run and are tested with (.venv, the layer).
DEPLOY_VENV := .venv-deploy
DEPLOY_BIN := $(DEPLOY_VENV)/bin
DEPLOY_STAMP := $(DEPLOY_VENV)/.installed-$(shell (cat requirements-deploy.txt; $(PYTHON) -V) | cksum | cut -d' ' -f1)
SAMCONFIG := infra/deploy/samconfig.toml
CHINA_REGIONS := cn-north-1 cn-northwest-1
# The runtime-lifecycle rules compare the runtime with today's date (tests/infra/test_template.py says why).
CFN_LINT_IGNORE := W2531,E2531,E2533
export SAM_CLI_TELEMETRY := 0

.PHONY: deploy-tools validate deploy deploy-config

$(DEPLOY_STAMP): requirements-deploy.txt
	@if [ -x $(DEPLOY_BIN)/python ] && [ "$$($(DEPLOY_BIN)/python -V)" != "$$($(PYTHON) -V)" ]; then rm -rf $(DEPLOY_VENV); fi
	@test -x $(DEPLOY_BIN)/python || $(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_BIN)/python -m pip install -q -r requirements-deploy.txt
	@rm -f $(DEPLOY_VENV)/.installed-* && touch $@

deploy-tools: $(DEPLOY_STAMP)  ## the pinned SAM CLI and cfn-lint (requirements-deploy.txt) in .venv-deploy
	@$(DEPLOY_BIN)/sam --version && $(DEPLOY_BIN)/cfn-lint --version

validate: $(STAMP) $(DEPLOY_STAMP)  ## template.yaml current, then sam validate --lint and cfn-lint for both China regions (offline)
	$(BIN)/python -m infra.deploy.template_gen --check
	for region in $(CHINA_REGIONS); do $(DEPLOY_BIN)/sam validate --lint --template-file template.yaml --region $$region || exit 1; done
	$(DEPLOY_BIN)/cfn-lint --regions $(CHINA_REGIONS) --ignore-checks $(CFN_LINT_IGNORE) -- template.yaml

# make deploy STAGE=prod REGION=cn-north-1: the section STAGE of infra/deploy/samconfig.toml (REGION: its region if unset).
# The last step points each function's live alias at a version of what is deployed: SAM publishes none for a change
# of a parameter's value alone (infra/deploy/publish_live.py says why).
deploy: deploy-config validate  ## sam build + sam deploy of STAGE (infra/deploy/samconfig.toml) to REGION, after make validate, then the live aliases
	$(DEPLOY_BIN)/sam build --config-file $(SAMCONFIG) --config-env $(STAGE)
	$(DEPLOY_BIN)/sam deploy --config-file $(SAMCONFIG) --config-env $(STAGE) $(if $(REGION),--region $(REGION))
	$(BIN)/python -m infra.deploy.publish_live --stage $(STAGE) $(if $(REGION),--region $(REGION))

deploy-config:  # the stage's section exists and holds no REPLACE_ value left to fill in
	@test -n "$(STAGE)" || { echo "make deploy: name the stage: make deploy STAGE=prod REGION=cn-north-1"; exit 2; }
	@$(PYTHON) -c 'import sys, tomllib; c = tomllib.load(open("$(SAMCONFIG)", "rb")); s = c.get(sys.argv[1]); \
	  sys.exit(f"make deploy: no section [{sys.argv[1]}.deploy.parameters] in $(SAMCONFIG)") if not s or "deploy" not in s else 0; \
	  left = [k for k, v in s["deploy"]["parameters"].items() if "REPLACE_" in str(v)]; \
	  sys.exit(f"make deploy: $(SAMCONFIG) [{sys.argv[1]}] still holds REPLACE_ values in {left} (docs/deploy.md)") if left else 0' "$(STAGE)"

clean:
	rm -rf $(VENV) $(DEPLOY_VENV) .pytest_cache .aws-sam
