"""Templates for ``sam local start-api``: one per ``ApiType``, written by ``make build`` beside the built one.

SAM CLI's providers ignore a resource's ``Condition``: on the built template
they mount the REST API's routes and the HTTP API's at once, which no deployed
stack has. They do resolve ``Fn::If`` from the parameter values, but the SAM
transform needs a function's ``Events`` literally, so the deployed template
cannot hide them. So ``make build`` writes, next to ``.aws-sam/build/template.yaml``
(the built code paths stay valid), one copy per API type (docs/decisions.md):

- the resources and outputs whose condition depends on ``ApiType`` and is false
  are removed, the others lose that condition, and ``Fn::If`` on such a
  condition is replaced by its chosen branch; ``ApiType`` allows that type only;
- the variables by which a function finds AWS (:data:`EMULATOR_VARIABLES`) are
  declared in ``Globals``, because ``--env-vars`` only sets variables a template
  declares. Their defaults point at the local emulator's default address, so a
  function started without the env-vars file still never reaches AWS.
  Lambda reserves these names: such a template cannot be deployed, and the
  deployed one never declares them (:func:`local_template` refuses it).

``make local`` writes the values (local/sam_env.py); tools/sam_local_check.py
checks that SAM CLI serves exactly the deployed API from these templates.

``python -m tools.sam_local [--build-dir DIR]`` writes the templates; it needs
cfn-lint (to read YAML) and PyYAML only, so SAM CLI's own venv runs it.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from tools.intrinsics import NO_VALUE, Resolver
from tools.template import ROOT, TemplateError, load_template

BUILD_DIR = ROOT / ".aws-sam" / "build"
API_TYPES = ("REST", "HTTP")
API_PARAMETER = "ApiType"
LOCAL_STACK_NAME = "sam-local"
LOCAL_REGION = "us-east-1"
# Where a function finds AWS; defaults: the local emulator's default address and its stand-in credentials.
EMULATOR_VARIABLES = {
    "AWS_ENDPOINT_URL": "http://host.docker.internal:3001",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_REGION": LOCAL_REGION,
    "AWS_DEFAULT_REGION": LOCAL_REGION,
}
HEADER = (
    "# Written by `make build` (tools/sam_local.py) from the built template, for `sam local` only:\n"
    "# ApiType={api_type}, the other API removed, AWS_* variables declared for --env-vars. Never deploy it.\n"
)
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


class LocalTemplateError(ValueError):
    """The built template cannot be made into a local one; the message says why."""


def template_name(api_type: str) -> str:
    """``template-rest.yaml`` or ``template-http.yaml``."""
    return f"template-{_checked(api_type).lower()}.yaml"


def _checked(api_type: str) -> str:
    if api_type not in API_TYPES:
        raise LocalTemplateError(f"ApiType {api_type!r} is not one of {', '.join(API_TYPES)}")
    return api_type


def decided_conditions(document: Mapping[str, Any], api_type: str) -> dict[str, bool]:
    """Every condition that depends on ``ApiType`` (directly or through another condition), evaluated."""
    conditions: Mapping[str, Any] = document.get("Conditions", {})
    depends: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, expression in conditions.items():
            if name not in depends and _mentions(expression, depends):
                depends.add(name)
                changed = True
    resolver = Resolver(document, LOCAL_STACK_NAME, LOCAL_REGION, {API_PARAMETER: api_type})
    return {name: resolver.condition(name) for name in sorted(depends)}


def _mentions(value: Any, conditions: set[str]) -> bool:
    if isinstance(value, dict):
        if value.get("Ref") == API_PARAMETER or value.get("Condition") in conditions:
            return True
        return any(_mentions(item, conditions) for item in value.values())
    if isinstance(value, list):
        return any(_mentions(item, conditions) for item in value)
    return False


def _decide(value: Any, decided: Mapping[str, bool]) -> Any:
    """``value`` with each ``Fn::If`` on a decided condition replaced by its branch (NO_VALUE for AWS::NoValue)."""
    if isinstance(value, list):
        return [item for item in (_decide(item, decided) for item in value) if item is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Fn::If"} and value["Fn::If"][0] in decided:
        name, when_true, when_false = value["Fn::If"]
        chosen = _decide(when_true if decided[name] else when_false, decided)
        return NO_VALUE if chosen == {"Ref": "AWS::NoValue"} else chosen
    result = {key: _decide(item, decided) for key, item in value.items()}
    return {key: item for key, item in result.items() if item is not NO_VALUE}


def _references(value: Any) -> Iterator[str]:
    """Logical ids (or parameters) a value names through Ref, GetAtt or Sub."""
    if isinstance(value, list):
        for item in value:
            yield from _references(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                yield item
            elif key == "Fn::GetAtt":
                yield (item[0] if isinstance(item, list) else str(item).split(".", 1)[0])
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0]
                yield from _SUB_NAME.findall(text)
                if isinstance(item, list):
                    yield from _references(item[1])
            else:
                yield from _references(item)


def _declared_emulator_variables(document: Mapping[str, Any]) -> list[str]:
    found = []
    blocks = [("Globals", document.get("Globals", {}).get("Function", {}))]
    blocks += [(logical_id, resource.get("Properties", {})) for logical_id, resource in document["Resources"].items()]
    for where, properties in blocks:
        variables = properties.get("Environment", {}).get("Variables", {})
        found += [f"{where}: {name}" for name in variables if name in EMULATOR_VARIABLES]
    return found


def local_template(built: Mapping[str, Any], api_type: str) -> dict[str, Any]:
    """The built template as ``sam local`` must see it for one ``ApiType`` (see the module docstring)."""
    _checked(api_type)
    parameter = built.get("Parameters", {}).get(API_PARAMETER)
    if parameter is None or api_type not in parameter.get("AllowedValues", [api_type]):
        raise LocalTemplateError(f"the template has no {API_PARAMETER} parameter allowing {api_type}")
    declared = _declared_emulator_variables(built)
    if declared:
        raise LocalTemplateError(
            "the template declares variables Lambda reserves or only the local mode may set: " + ", ".join(declared)
        )
    decided = decided_conditions(built, api_type)
    document = copy.deepcopy(dict(built))
    removed: set[str] = set()  # resources
    for section in ("Resources", "Outputs"):
        kept = {}
        for logical_id, entry in document.get(section, {}).items():
            condition = entry.get("Condition")
            if condition in decided:
                if not decided[condition]:
                    if section == "Resources":
                        removed.add(logical_id)
                    continue
                entry = {key: value for key, value in entry.items() if key != "Condition"}
            kept[logical_id] = entry
        if section in document:
            document[section] = kept
    document = dict(_decide(document, decided))
    document["Conditions"] = {k: v for k, v in document.get("Conditions", {}).items() if k not in decided}
    if not document["Conditions"]:
        del document["Conditions"]
    entries = [("Globals", document.get("Globals", {}))]
    entries += [item for section in ("Resources", "Outputs") for item in document.get(section, {}).items()]
    dangling = sorted(
        f"{logical_id} -> {name}"
        for logical_id, entry in entries
        for name in {*_references(entry), *_depends_on(entry)}
        if name in removed
    )
    if dangling:
        raise LocalTemplateError(
            f"with {API_PARAMETER}={api_type}, these still name removed resources (use Fn::If): " + ", ".join(dangling)
        )
    document["Parameters"][API_PARAMETER] = {
        **parameter,
        "Default": api_type,
        "AllowedValues": [api_type],
        "Description": f"Fixed: this template serves the {api_type} API only (tools/sam_local.py).",
    }
    function_globals = document.setdefault("Globals", {}).setdefault("Function", {})
    variables = function_globals.setdefault("Environment", {}).setdefault("Variables", {})
    variables.update(EMULATOR_VARIABLES)
    return document


def _depends_on(entry: Mapping[str, Any]) -> list[str]:
    depends = entry.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


def write_local_templates(build_dir: Path = BUILD_DIR) -> list[Path]:
    """Both local templates beside ``build_dir/template.yaml``; returns their paths."""
    source = build_dir / "template.yaml"
    if not source.is_file():
        raise LocalTemplateError(f"no {source}: run `make build` first")
    try:
        built = load_template(source)
    except (OSError, TemplateError) as error:
        raise LocalTemplateError(f"cannot read {source}: {error}") from error
    written = []
    for api_type in API_TYPES:
        target = build_dir / template_name(api_type)
        text = yaml.safe_dump(local_template(built, api_type), sort_keys=False, width=120)
        target.write_text(HEADER.format(api_type=api_type) + text, encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sam_local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR, help="sam build output (default .aws-sam/build)")
    args = parser.parse_args(argv)
    try:
        written = write_local_templates(args.build_dir)
    except LocalTemplateError as error:
        print(f"sam local templates: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"sam local template: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
