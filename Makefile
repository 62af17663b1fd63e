# dockyard — two commands do everything on a fresh Debian machine (as root):
#   make run    installs what is needed, makes a default engine root with base images, opens the app
#   make test   installs what is needed and runs linters, the type checker and the whole test suite
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
ROOT ?= /var/lib/dockyard
APT_PACKAGES := busybox-static tini debootstrap skopeo umoci tmux iproute2 iptables nftables python3-venv \
	docker-registry apache2-utils openssl \
	librsvg2-bin procps kmod docker.io docker-compose podman runc openssh-client openssh-server
PYTEST_ARGS ?=

.PHONY: run test deps venv lint typecheck unit quick screenshots bench clean-venv fuzz faults

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || /usr/bin/python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	$(PY) -m app.launcher $(VENV)/bin/dockyard
	$(PY) -m compileall -q app engine themes >/dev/null
	@touch $@

venv: $(VENV)/.installed

run: deps venv
	@$(VENV)/bin/dockyard --root $(ROOT) image inspect busybox:latest >/dev/null 2>&1 || \
		$(VENV)/bin/dockyard --root $(ROOT) image bootstrap busybox
	@$(VENV)/bin/dockyard --root $(ROOT) image inspect debian:bookworm >/dev/null 2>&1 || \
		$(VENV)/bin/dockyard --root $(ROOT) image bootstrap debian:bookworm || \
		echo "debian:bookworm could not be bootstrapped; busybox:latest is ready"
	$(VENV)/bin/dockyard --root $(ROOT)

lint: venv
	$(VENV)/bin/ruff check app engine tests bench
	$(VENV)/bin/ruff format --check app engine tests bench
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/vulture

typecheck: venv
	$(VENV)/bin/mypy engine app

unit: deps venv
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

test: deps venv lint typecheck unit

# The fast set while working: no real containers or external tools.
quick: venv
	$(VENV)/bin/pytest -q -m 'not slow' $(PYTEST_ARGS)

# The fuzz tests at length (tests/fuzz): 100,000 examples per reader instead of the 10,000 of every run,
# minutes each, so without the per-test timeout.
fuzz: venv
	HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/pytest -q --timeout=0 tests/fuzz

# Fault injection at length: every point killed and failed with both ENOSPC and EIO (make test alternates them).
faults: deps venv
	DOCKYARD_FAULT_MODES=all $(VENV)/bin/pytest -q tests/engine/test_fault_injection.py

# docs/CLI.md: every Docker command and flag with what dockyard does with it, made from the code.
.PHONY: docs
docs: venv
	$(PY) -m app.cli.reference

screenshots: deps venv
	$(PY) -m app.tui.screenshots screenshots

bench: deps venv
	bash ../shared/peers/setup.sh 2>/dev/null || true
	$(PY) -m bench.run_all

clean-venv:
	rm -rf $(VENV)
