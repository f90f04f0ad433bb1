#!/usr/bin/env bash
# Print the path of a Python >= 3.12: $PYTHON if given, then python3.13 / python3.12 if they run,
# then pyenv's interpreters. Exit 1 with a clear message when there is none.
set -u
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
if [ -n "${PYTHON:-}" ]; then
  if ok "$PYTHON"; then command -v "$PYTHON" || echo "$PYTHON"; exit 0; fi
  echo "PYTHON=$PYTHON does not run or is older than 3.12." >&2; exit 1
fi
for c in python3.13 python3.12 python3; do
  if command -v "$c" >/dev/null 2>&1 && ok "$c"; then command -v "$c"; exit 0; fi
done
root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for c in "$root"/versions/3.1[3-9]*/bin/python3 "$root"/versions/3.12*/bin/python3; do
  if [ -x "$c" ] && ok "$c"; then echo "$c"; exit 0; fi
done
echo "No Python >= 3.12 found (tried \$PYTHON, python3.13, python3.12, python3 and $root/versions)." >&2
echo "Install one (e.g. 'pyenv install 3.12') or run: make PYTHON=/path/to/python3.12 ..." >&2
exit 1
