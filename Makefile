# The two commands of the README: `make run` and `make test`. Both set themselves up.
# `make package` builds the deployable template (infrastructure/README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: vendor run package test lint typecheck unit browser-deps bench bench-payments bench-console bench-settlement bench-coldstart bench-sessions clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<26.3"
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# The camera page's QR decoder: jsQR (Apache-2.0) from the npm registry, fetched at build time and
# packaged with chalicelib (run `make vendor` before `chalice package`); it is not kept in the repo.
JSQR := chalicelib/web/assets/jsqr.js
JSQR_VERSION := 1.4.0
$(JSQR):
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent jsqr@$(JSQR_VERSION) >/dev/null && \
	  tar xzf jsqr-$(JSQR_VERSION).tgz package/dist/jsQR.js package/LICENSE && \
	  cp package/dist/jsQR.js $(CURDIR)/$(JSQR) && cp package/LICENSE $(CURDIR)/chalicelib/web/assets/jsqr.LICENSE.txt && \
	  rm -rf $$tmp

vendor: $(JSQR)

run: $(STAMP) $(JSQR)
	$(PY) -m devstack.run

# The deployable stack for STAGE in build/STAGE/: `chalice package` with infrastructure/resources.json
# merged in, finished by devstack/package.py (an ANY method on every path, a log group and an Errors
# alarm per function). Offline apart from PyPI (Lambda wheels); deploying is `aws cloudformation ...`.
STAGE ?= prod
package: $(STAMP) $(JSQR)
	$(PY) -m devstack.package --stage $(STAGE) build/$(STAGE)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The browser tests drive Debian's headless Chromium (Playwright's own browser download is not used).
# Installed once, as root, only when missing; chromium-l10n gives the browser its Japanese locale.
CHROMIUM := /usr/bin/chromium
browser-deps:
	@if [ ! -x $(CHROMIUM) ] || [ ! -f /usr/lib/chromium/locales/ja.pak ]; then \
	  echo "installing chromium, chromium-l10n and fonts-noto-cjk (Debian packages) for the browser tests"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO="sudo -n"; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-l10n fonts-noto-cjk \
	    >/dev/null; \
	fi

# axe-core (MPL-2.0, from the npm registry) checks the pages' accessibility in the browser tests.
AXE := $(VENV)/axe-core/axe.min.js
AXE_VERSION := 4.14.1
$(AXE):
	mkdir -p $(dir $(AXE))
	cd $(dir $(AXE)) && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
	  tar xzf axe-core-$(AXE_VERSION).tgz --strip-components=1 package/axe.min.js package/LICENSE && \
	  rm axe-core-$(AXE_VERSION).tgz

test: $(STAMP) $(JSQR) browser-deps $(AXE)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

bench: bench-coldstart bench-payments bench-sessions bench-console bench-settlement

bench-payments: $(STAMP)
	$(PY) -m bench.payments

bench-console: $(STAMP)
	$(PY) -m bench.console

bench-settlement: $(STAMP)
	$(PY) -m bench.settlement

bench-sessions: $(STAMP)
	$(PY) -m bench.sessions

bench-coldstart: $(STAMP)
	$(PY) -m bench.coldstart

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache
