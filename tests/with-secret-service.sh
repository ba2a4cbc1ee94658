#!/usr/bin/env bash
# Run a command inside a private D-Bus session with an unlocked gnome-keyring Secret Service,
# so tests exercise the real OS keyring without touching the user's own keyring:
#
#   bash tests/with-secret-service.sh .venv/bin/python -m pytest -q
#
# Everything the daemon writes lives in a throwaway directory (XDG_* and the daemon's HOME),
# removed on exit; the daemon is killed on exit. The command's exit status is kept. If the
# Secret Service cannot be started, this fails loudly and the command does not run.
#
# Environment (all optional; the keyring tests use them to build locked keyrings):
#   SOURDINE_KEYRING_DIR       keep the keyring files in this directory instead (not removed)
#   SOURDINE_KEYRING_PASSWORD  the password that unlocks the keyring (default: random)
#   SOURDINE_KEYRING_ALLOW_LOCKED=1  run the command even if the keyring stays locked
# The command sees SOURDINE_SECRET_SERVICE set to the private bus address and
# SOURDINE_KEYRING_DAEMON_PID set to the daemon's process id.
set -uo pipefail

fail() {
  echo "with-secret-service: $*" >&2
  exit 70
}

if [ "${1:-}" != "--inside-private-bus" ]; then
  [ $# -gt 0 ] || fail "usage: $0 COMMAND [ARG...]"
  for tool in dbus-run-session dbus-send gnome-keyring-daemon; do
    command -v "$tool" >/dev/null 2>&1 ||
      fail "$tool is missing; install the Debian packages gnome-keyring dbus dbus-x11 (make setup does)."
  done
  exec dbus-run-session -- bash "$0" --inside-private-bus "$@"
fi
shift

if [ -n "${SOURDINE_KEYRING_DIR:-}" ]; then
  work="$SOURDINE_KEYRING_DIR"
  remove_work=0
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/sourdine-keyring.XXXXXX")" || fail "mktemp failed"
  remove_work=1
fi
mkdir -p "$work/data" "$work/config" "$work/cache" "$work/state" "$work/runtime" "$work/home" ||
  fail "cannot create directories under $work"
chmod 700 "$work/runtime"
export XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache"
export XDG_STATE_HOME="$work/state" XDG_RUNTIME_DIR="$work/runtime"
unset PYTHON_KEYRING_BACKEND GNOME_KEYRING_CONTROL
password="${SOURDINE_KEYRING_PASSWORD:-$(head -c 18 /dev/urandom | base64)}"

daemon_pid=""
cleanup() {
  if [ -n "$daemon_pid" ]; then
    kill "$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
  fi
  if [ "$remove_work" = 1 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

printf %s "$password" |
  HOME="$work/home" gnome-keyring-daemon --foreground --unlock --components=secrets \
    >"$work/daemon.log" 2>&1 &
daemon_pid=$!

secrets_on_bus() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
    grep -q "boolean true"
}
for _ in $(seq 100); do
  secrets_on_bus && break
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
if ! secrets_on_bus; then
  echo "with-secret-service: gnome-keyring-daemon did not provide org.freedesktop.secrets; its log:" >&2
  cat "$work/daemon.log" >&2
  exit 70
fi

locked="$(dbus-send --session --print-reply --dest=org.freedesktop.secrets \
  /org/freedesktop/secrets/aliases/default org.freedesktop.DBus.Properties.Get \
  string:org.freedesktop.Secret.Collection string:Locked 2>&1)"
if ! grep -q "boolean false" <<<"$locked" && [ "${SOURDINE_KEYRING_ALLOW_LOCKED:-0}" != 1 ]; then
  echo "with-secret-service: the default keyring collection is not unlocked:" >&2
  echo "$locked" >&2
  cat "$work/daemon.log" >&2
  exit 70
fi

export SOURDINE_SECRET_SERVICE="$DBUS_SESSION_BUS_ADDRESS" SOURDINE_KEYRING_DAEMON_PID="$daemon_pid"
"$@"
status=$?
exit "$status"
