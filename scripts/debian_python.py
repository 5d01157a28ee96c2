"""debian_python: run a script under Debian's /usr/bin/python3 when the
python3 that started it lacks a module that Debian's packages provide.

scripts/setup.sh installs python3-matplotlib for Debian's interpreter; on a
developer machine the first python3 on PATH is often another one (pyenv, a
venv) without it, and `scripts/plot-latency.py lat.txt -o lat.png` must work
there as the README shows it. A script calls require("matplotlib") before its
first import of the module: if this interpreter cannot find it, the script is
started again, same arguments, under /usr/bin/python3 (once: an environment
variable stops a second hop). Returns False when no interpreter has it, so
the script can say what to install.
"""
import importlib.util
import os
import sys

DEBIAN_PYTHON = "/usr/bin/python3"
_HOPPED = "UVFRAME_DEBIAN_PYTHON"


def available(module):
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(module):
    """True if module can be imported here; otherwise re-executes the running
    script under Debian's python3 (does not return), or returns False."""
    if available(module):
        return True
    if os.environ.get(_HOPPED) or not os.access(DEBIAN_PYTHON, os.X_OK):
        return False
    env = dict(os.environ)
    env[_HOPPED] = "1"
    script = os.path.abspath(sys.argv[0])
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(DEBIAN_PYTHON, [DEBIAN_PYTHON, script, *sys.argv[1:]], env)
    return False  # not reached
