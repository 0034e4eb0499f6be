"""Import each Lambda's ``functions/<name>/app.py`` the way Lambda does: as its own module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py once, under a unique module name (every Lambda has an ``app``)."""
    module_name = f"function_{name}_app"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / name / "app.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"no Lambda function named {name!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
