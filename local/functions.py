"""Import each Lambda's ``functions/<name>/app.py`` the way Lambda does: as its own module, with its own
environment.

Handlers read their configuration at import, and a Lambda sees only the
variables of its own ``Environment`` block; so while a function is imported,
``os.environ`` is exactly the process's basics plus that function's variables
(a variable missing from its template block fails here as it would in the
cloud, not hidden by another function's).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
# What every process keeps: the shell's basics and where AWS is (credentials, region, endpoint).
PROCESS_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "PYTHONHASHSEED")
PROCESS_PREFIXES = ("AWS_", "LOCAL_")
_IMPORT_LOCK = threading.Lock()


def _basics(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k in PROCESS_VARIABLES or k.startswith(PROCESS_PREFIXES)}


@contextmanager
def function_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` is the process basics plus ``variables`` inside; restored after."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update({**_basics(saved), **variables})
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def load_function(
    name: str, environment: Mapping[str, str] | None = None, *, module_name: str | None = None
) -> ModuleType:
    """Import functions/<name>/app.py once, under a unique module name (every Lambda has an ``app``).

    With ``environment``, the import sees only that function's variables (the local mode);
    without, the current environment (tests set theirs in tests/conftest.py). ``module_name``: another
    import of the same code, as a second container of another function would hold it."""
    module_name = module_name or f"function_{name}_app"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / name / "app.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"no Lambda function named {name!r}")
    module = importlib.util.module_from_spec(spec)
    with _IMPORT_LOCK:
        sys.modules[module_name] = module
        try:
            if environment is None:
                spec.loader.exec_module(module)
            else:
                with function_environment(environment):
                    spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
    return module
