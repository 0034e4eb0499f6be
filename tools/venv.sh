#!/bin/sh
# The development environment for every make target that needs one (the Makefile's `venv`). Quick when it is
# in order: one start of its interpreter and a checksum of the requirements files, nothing installed.
#
# - Before a venv is made, PYTHON must be MIN or newer (pyproject.toml's requires-python): otherwise one line
#   naming the version needed and how to choose another, and nothing is made or installed.
# - A venv whose interpreter is missing, does not start or is older than MIN is rebuilt, said in one line
#   (a .venv made by an older Python is never reused).
# - The stamp VENV/.installed-<checksum of the requirements files> is written only once pip has succeeded:
#   an install that stopped half-way, or a changed requirements file, installs again.
#
# Everything it prints goes to stderr, pip's output included: a target's stdout stays its own (`make compact | jq`
# on a fresh clone reads the report, not the install).
#
# Usage: tools/venv.sh VENV PYTHON MIN GOAL REQUIREMENTS...  (GOAL: the make command, for the hint)
set -eu
exec 1>&2
venv=$1 python=$2 min=$3 goal=$4
shift 4
stamp="$venv/.installed-$(cat "$@" | cksum | cut -d' ' -f1)"

# "3.10" for an interpreter that starts, nothing otherwise (Python 2 prints its version too).
version_of() {
  "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true
}

# Whether version $1 is MIN or newer.
recent_enough() {
  [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$min" "$1" | sort -t. -k1,1n -k2,2n | head -n 1)" = "$min" ]
}

# The first pythonMAJOR.MINOR on PATH at MIN or newer, to suggest.
suggestion() {
  major=${min%%.*} minor=${min#*.}
  for next in 0 1 2 3 4 5; do
    candidate="python$major.$((minor + next))"
    if recent_enough "$(version_of "$candidate")"; then
      echo "$candidate"
      return
    fi
  done
}

preflight() {
  found=$(version_of "$python")
  recent_enough "$found" && return
  if [ -z "$found" ]; then
    problem="PYTHON=$python does not run"
  else
    problem="PYTHON=$python is Python $found"
  fi
  better=$(suggestion)
  if [ -n "$better" ]; then
    how="choose another: \`$goal PYTHON=$better\`"
  else
    how="install one (python.org, your package manager or pyenv), then \`$goal PYTHON=python$min\`"
  fi
  echo "make: Python $min or newer is needed and $problem; $how" >&2
  exit 2
}

current=$(version_of "$venv/bin/python")
if recent_enough "$current" && [ -f "$stamp" ]; then
  exit 0
fi

# PYTHON matters only when the venv is made: a venv in order reinstalls with its own interpreter.
recent_enough "$current" || preflight
if [ -e "$venv" ] && ! recent_enough "$current"; then
  if [ -z "$current" ]; then
    echo "make: $venv/bin/python is missing or does not start: rebuilding $venv with $python"
  else
    echo "make: $venv was made with Python $current ($min or newer is needed): rebuilding it with $python"
  fi
  rm -rf "$venv"
fi

echo "Installing the development environment into $venv from the pinned requirements"
if [ ! -e "$venv" ]; then
  echo "(first run: about 2 minutes and 750 MB; later runs skip this until a requirements file changes) ..."
  if ! "$python" -m venv "$venv"; then
    rm -rf "$venv"
    echo "make: \`$python -m venv $venv\` failed (Debian and Ubuntu: apt-get install python3-venv)" >&2
    exit 2
  fi
elif ls "$venv"/.installed-* >/dev/null 2>&1; then
  echo "(a requirements file changed since the last install) ..."
else
  echo "(the last install did not finish: installing again) ..."
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar on -r requirements-dev.txt
echo "Development environment ready."
rm -f "$venv"/.installed-*
touch "$stamp"
