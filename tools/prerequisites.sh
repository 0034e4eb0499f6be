#!/bin/sh
# What `make test` needs beyond .venv and Node, from Debian's packages (the Makefile's `prerequisites`):
#   chromium  the browser tests drive /usr/bin/chromium (or $CHROMIUM) through Playwright; never `playwright install`
#   jq        the docs tests run README's and docs/'s commands as written, and those read .local/stack.json with it
#   llvm      llvm-strip and llvm-readelf: the layer recipe's test, and `make build` (it strips the arm64 layers)
# Nothing to do when all are there: no apt-get, no output. Otherwise apt-get installs the missing ones as root,
# or through sudo; where neither can, one line says how, and make test stops before its 14 minutes.
set -eu
missing=
needs=
need() {
  missing="$missing${missing:+ }$1"
  needs="$needs${needs:+, }$1 ($2)"
}
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || need chromium "the browser tests"
command -v jq >/dev/null 2>&1 || need jq "the docs tests"
command -v llvm-strip >/dev/null 2>&1 || need llvm "llvm-strip, the layer tests"
[ -n "$missing" ] || exit 0

how="sudo apt-get install -y $missing"
cannot() {
  echo "make test: the tests need Debian's $needs, and $1: $how" >&2
  exit 2
}
if [ "$(id -u)" = 0 ]; then
  as_root=
elif command -v sudo >/dev/null 2>&1; then
  as_root=sudo
else
  cannot "this user is not root and has no sudo"
fi
command -v apt-get >/dev/null 2>&1 || cannot "this machine has no apt-get (install them as its package manager does)"

echo "make test: installing Debian's $needs: ${as_root:+sudo }apt-get install -y $missing"
export DEBIAN_FRONTEND=noninteractive
# An image whose package lists were never fetched finds nothing: update once, then try again.
# shellcheck disable=SC2086  # $missing is a list of package names
$as_root apt-get install -y -q $missing || { $as_root apt-get update -q && $as_root apt-get install -y -q $missing; } ||
  cannot "apt-get could not install them"
