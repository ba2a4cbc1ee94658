# Sourdine: the two commands are `make run` and `make test`; both set up everything first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

# Debian packages the build and the tests need, as "command:package" pairs; only missing ones
# are installed, so a prepared machine runs no apt-get at all.
SYSTEM_DEPS := git:git openssl:openssl \
	gnome-keyring-daemon:gnome-keyring dbus-run-session:dbus dbus-send:dbus-bin \
	dbus-launch:dbus-x11 secret-tool:libsecret-tools xvfb-run:xvfb xauth:xauth
# Libraries (no command to look for): installed unless dpkg reports them installed. Qt's
# offscreen and xcb platforms need these; xvfb-run gives the screenshot test a display.
SYSTEM_LIBS := libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 \
	libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xkb1 \
	libfontconfig1 libdbus-1-3 fonts-dejavu-core fonts-noto-color-emoji

.PHONY: run test lint typecheck pytest bench system-deps setup clean translations \
	update-translations screenshots-xvfb

run: setup
	$(PY) -m app

test: setup lint typecheck pytest screenshots-xvfb

setup: system-deps $(STAMP) translations

system-deps:
	@missing=""; \
	for pair in $(SYSTEM_DEPS); do \
	  cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	for pkg in $(SYSTEM_LIBS); do \
	  dpkg-query -W -f='$${db:Status-Abbrev}' $$pkg 2>/dev/null | grep -q '^ii' || \
	    missing="$$missing $$pkg"; \
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
	$(VENV)/bin/mypy --strict crypto relay app

# The tests run on a private D-Bus session with a real, unlocked gnome-keyring Secret Service
# (throwaway home, daemon stopped on exit); pytest's exit status is kept.
pytest: setup
	bash tests/with-secret-service.sh $(PY) -m pytest -q

# Qt translations: the .ts sources under resources/translations are compiled to .qm (not kept
# in git). `make update-translations` refreshes the .ts from the code (pyside6-lupdate); the
# test tests/app/ui/test_translations.py fails when a string has no French translation.
TS_FILES := $(wildcard resources/translations/*.ts)
QM_FILES := $(TS_FILES:.ts=.qm)

translations: $(QM_FILES)

resources/translations/%.qm: resources/translations/%.ts | $(STAMP)
	$(VENV)/bin/pyside6-lrelease -silent $< -qm $@

update-translations: | $(STAMP)
	$(VENV)/bin/pyside6-lupdate -silent -locations none -no-obsolete \
	  $$(find app -name '*.py' | sort) -ts $(TS_FILES)

# The screenshot test on a virtual X display with Qt's xcb platform (what CI keeps as artifacts
# under build/screenshots/); `make pytest` runs the same test offscreen.
screenshots-xvfb: setup
	QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x800x24" \
	  bash tests/with-secret-service.sh $(PY) -m pytest -q tests/app/ui/test_screenshots.py

bench: setup
	$(PY) -m bench.crypto

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
