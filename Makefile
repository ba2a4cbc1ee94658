# Sourdine: the two commands are `make run` and `make test`; both set up everything first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

# Debian packages the build and the tests need, as "command:package" pairs; only missing ones
# are installed, so a prepared machine runs no apt-get at all.
SYSTEM_DEPS := git:git openssl:openssl \
	gnome-keyring-daemon:gnome-keyring dbus-run-session:dbus dbus-send:dbus-bin \
	dbus-launch:dbus-x11 secret-tool:libsecret-tools

.PHONY: run test lint typecheck pytest bench system-deps setup clean

run: setup
	$(PY) -m app

test: setup lint typecheck pytest

setup: system-deps $(STAMP)

system-deps:
	@missing=""; \
	for pair in $(SYSTEM_DEPS); do \
	  cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	touch $(STAMP)

lint: setup
	$(VENV)/bin/ruff check .

typecheck: setup
	$(VENV)/bin/mypy --strict crypto relay

# The tests run on a private D-Bus session with a real, unlocked gnome-keyring Secret Service
# (throwaway home, daemon stopped on exit); pytest's exit status is kept.
pytest: setup
	bash tests/with-secret-service.sh $(PY) -m pytest -q

bench: setup
	$(PY) -m bench.crypto

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
