#!/usr/bin/env bash
# Everything a fresh machine needs: a virtualenv with the versions pinned in
# constraints.txt (OpenBao's `bao` comes with them) and a Pulumi CLI (see toolchain.sh).
# Idempotent: a warm run checks two stamps and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$python" --version)" >&2
  "$python" -m venv .venv
fi

stamp=".venv/.installed-$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing pinned dependencies into .venv" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

bash scripts/toolchain.sh >/dev/null
