"""One declaration of what each function runs with, and the test environment installed from it.

`layers/*/requirements.txt` is what `sam build` puts in each layer and what
requirements-dev.txt installs here; these tests fail when the two drift, when
a pin is loose or incomplete, or when a handler imports a package that none
of its own layers ships (docs/dependencies.md).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from tools.sam import function_environment
from tools.template import ROOT, resources_of_type, template

PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+-]+)$")
# Every layer pip installs from its requirements.txt: by SAM's Python builder (DependenciesLayer) or by
# layers/pip-layer.mk (ArrowLayer, WranglerLayer: BuildMethod makefile, trimmed).
BUILT_LAYERS = {
    name: ROOT / spec["Properties"]["ContentUri"] / "requirements.txt"
    for name, spec in resources_of_type("AWS::Serverless::LayerVersion").items()
    if (ROOT / spec["Properties"]["ContentUri"] / "requirements.txt").is_file()
}
# Markers evaluated as on the Lambda runtime (python3.13 on Linux).
LAMBDA_ENVIRONMENT: dict[str, str] = {
    **{name: str(value) for name, value in default_environment().items()},
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
}


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.fullmatch(line)
        assert match, f"{path.relative_to(ROOT)}: {line!r} is not pinned with =="
        found[canonical(match[1])] = match[2]
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_given_the_template_when_read_then_the_built_layers_are_the_dependencies_arrow_and_wrangler_layers():
    assert set(BUILT_LAYERS) == {"DependenciesLayer", "ArrowLayer", "WranglerLayer"}


@pytest.mark.parametrize("layer", sorted(BUILT_LAYERS))
def test_given_a_layer_when_its_pins_are_installed_here_then_the_versions_are_identical(layer):
    for name, version in pins(BUILT_LAYERS[layer]).items():
        assert importlib.metadata.version(name) == version, f"{name} in {layer}"


def function_layers() -> list[list[str]]:
    """Each function's layers, by logical id (Globals' first, as SAM merges them)."""
    shared = [reference["Ref"] for reference in template()["Globals"]["Function"]["Layers"]]
    return [
        shared + [reference["Ref"] for reference in function["Properties"].get("Layers", [])]
        for function in resources_of_type("AWS::Serverless::Function").values()
    ]


def companions(layer: str) -> set[str]:
    """The built layers that every function carrying ``layer`` also carries (``layer`` included)."""
    carried = [set(layers) for layers in function_layers() if layer in layers]
    assert carried, f"no function carries {layer}"
    return set.intersection(*carried) & set(BUILT_LAYERS)


@pytest.mark.parametrize("layer", sorted(BUILT_LAYERS))
def test_given_a_layer_when_its_dependencies_are_resolved_then_the_closure_is_pinned_where_it_ships(layer):
    # A layer may leave a dependency to a layer that always ships beside it (awswrangler's boto3 and pyarrow).
    shipped = {name: version for other in companions(layer) for name, version in pins(BUILT_LAYERS[other]).items()}
    for name in pins(BUILT_LAYERS[layer]):
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({**LAMBDA_ENVIRONMENT, "extra": ""}):
                continue
            where = f"{layer} or a layer every function carrying it carries"
            assert canonical(requirement.name) in shipped, f"{name} needs {requirement.name}, not pinned in {where}"
            assert requirement.specifier.contains(shipped[canonical(requirement.name)], prereleases=True)


def test_given_the_wrangler_layer_when_its_companions_are_read_then_they_ship_boto3_and_pyarrow():
    assert companions("WranglerLayer") == {"DependenciesLayer", "ArrowLayer", "WranglerLayer"}


def test_given_requirements_dev_when_read_then_runtime_pins_come_only_from_the_layer_files():
    lines = [line.strip() for line in (ROOT / "requirements-dev.txt").read_text().splitlines()]
    includes = {line.removeprefix("-r ").strip() for line in lines if line.startswith("-r ")}
    deployed = {name for path in BUILT_LAYERS.values() for name in pins(path)}
    tools = {canonical(re.split(r"[\[=<>]", line)[0]) for line in lines if line and not line.startswith(("#", "-"))}

    assert includes == {str(path.relative_to(ROOT)) for path in BUILT_LAYERS.values()}
    assert tools & deployed == set()


def test_given_the_package_metadata_when_read_then_its_dependencies_are_the_deployed_pins():
    # pyproject.toml installs the shared package (and the operator CLIs) outside Lambda: it must not allow
    # a version of a deployed package other than the one the layers ship (a looser range once let an old
    # Powertools in).
    import tomllib

    deployed = {name: version for path in BUILT_LAYERS.values() for name, version in pins(path).items()}
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]

    for line in declared:
        requirement = Requirement(line)
        name = canonical(requirement.name)
        assert name in deployed, f"pyproject.toml depends on {name}, which no layer ships"
        assert str(requirement.specifier) == f"=={deployed[name]}", f"{line!r} is not the layer's pin"


@pytest.mark.parametrize(
    ("first", "second"), [(a, b) for a in sorted(BUILT_LAYERS) for b in sorted(BUILT_LAYERS) if a < b]
)
def test_given_two_layers_when_compared_then_no_package_is_in_both(first, second):
    assert set(pins(BUILT_LAYERS[first])) & set(pins(BUILT_LAYERS[second])) == set()


FUNCTIONS = resources_of_type("AWS::Serverless::Function")


def layer_packages(function: str) -> list[str]:
    """The top-level import names the function's built layers provide, from this environment."""
    layers = [*template()["Globals"]["Function"]["Layers"], *FUNCTIONS[function]["Properties"].get("Layers", [])]
    names = []
    for reference in layers:
        requirements = BUILT_LAYERS.get(reference["Ref"])
        for distribution in pins(requirements) if requirements else {}:
            files = importlib.metadata.files(distribution) or []
            names += sorted({str(f).split("/", 1)[0].removesuffix(".py") for f in files if ".dist-info" not in str(f)})
    return names


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_given_a_function_when_imported_with_only_its_layers_then_every_import_resolves(function, tmp_path):
    view = tmp_path / "layers"
    view.mkdir()
    site = Path(str(importlib.metadata.distribution("boto3").locate_file("")))
    for name in layer_packages(function):
        for candidate in (site / name, site / f"{name}.py"):
            if candidate.exists() and not (view / candidate.name).exists():
                (view / candidate.name).symlink_to(candidate)
    code_dir = ROOT / FUNCTIONS[function]["Properties"]["CodeUri"]
    probe = (
        "import sys; sys.path[:0] = sys.argv[1:];"
        "import app; print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'numpy'}))"
    )
    # Exactly the function's own environment from the template: a variable its settings need but its
    # Environment block lacks fails the import here.
    env = {"PATH": os.environ["PATH"], "AWS_DEFAULT_REGION": "us-east-1", **function_environment(function)}
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe, str(code_dir), str(ROOT / "layers/common/python"), str(view)],
        cwd=code_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    # Nothing outside the declared layers; pandas and numpy only where the Wrangler layer ships them.
    carries_wrangler = {"Ref": "WranglerLayer"} in FUNCTIONS[function]["Properties"].get("Layers", [])
    assert done.stdout.strip() == ("['numpy', 'pandas']" if carries_wrangler else "[]")
