"""Read template.yaml with cfn-lint's own loader (short-form tags become their long forms).

The local mode, the state-machine lint, `make parity` and the tests all read
the template through this module, so the template stays the one source of truth.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"


class TemplateError(ValueError):
    """The template could not be read."""


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    document, problems = decode(str(path))
    if problems or document is None:
        raise TemplateError(f"{path}: " + "; ".join(str(problem) for problem in problems or ["empty"]))
    plain: dict[str, Any] = json.loads(json.dumps(document))  # cfn-lint's node types -> plain dicts and strings
    return plain


@lru_cache(maxsize=1)
def template() -> dict[str, Any]:
    return load_template()


def resources_of_type(resource_type: str, document: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    resources = (document or template())["Resources"]
    return {name: body for name, body in resources.items() if body["Type"] == resource_type}
