#!/usr/bin/env bash
# The README's Python scripts must work as written on a machine whose first
# python3 on PATH is not Debian's (pyenv, a venv): no matplotlib there, while
# Debian's python3-matplotlib sits under /usr/bin/python3. A stand-in python3
# without site packages (-S) goes first on PATH, and the scripts run exactly
# as the README shows them.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  echo "python_fallback_test: Debian's python3-matplotlib is missing (scripts/setup.sh installs it)" >&2
  exit 1
fi
mkdir "$work/bin"
cat >"$work/bin/python3" <<'SH'
#!/bin/sh
# A python3 that sees no site packages: like a bare venv or pyenv build.
exec /usr/bin/python3 -S "$@"
SH
chmod +x "$work/bin/python3"
export PATH="$work/bin:$PATH"
if python3 -c 'import matplotlib' 2>/dev/null; then
  echo "python_fallback_test: the stand-in python3 should not find matplotlib" >&2
  exit 1
fi

cd "$work"
cat >lat.txt <<'TXT'
       Value     Percentile TotalCount 1/(1-Percentile)

      10.000 0.500000000000          5           2.00
      20.000 0.990000000000         10         100.00
#[Mean    =       12.000, StdDeviation   =        3.000]
#[Max     =       20.000, Total count    =           10]
TXT
"$repo/scripts/plot-latency.py" lat.txt -o lat.png
test -s lat.png || { echo "python_fallback_test: lat.png was not written" >&2; exit 1; }
head -c 8 lat.png | od -c | grep -q 'P   N   G' ||
  { echo "python_fallback_test: lat.png is not a PNG" >&2; exit 1; }
echo "python_fallback_test: plot-latency.py works with a python3 that has no matplotlib"
