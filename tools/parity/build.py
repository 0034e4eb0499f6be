"""What ``sam build`` produced: each function's code and layers, their sizes and overlaps."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tools.template import ROOT, load_template

BUILD_DIR = ROOT / ".aws-sam" / "build"
WORK_DIR = ROOT / ".aws-sam" / "parity"
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024  # Lambda: function code plus all its layers


class ParityFailure(Exception):
    """The rehearsal found something that would break in the cloud."""


@dataclass(frozen=True)
class Layer:
    logical_id: str
    root: Path  # holds python/

    @property
    def python_dir(self) -> Path:
        return self.root / "python"


@dataclass(frozen=True)
class BuiltFunction:
    logical_id: str
    code_dir: Path
    handler: str
    layers: tuple[Layer, ...]
    memory: int
    timeout: int
    runtime: str


def built_functions(build_dir: Path = BUILD_DIR) -> dict[str, BuiltFunction]:
    document = load_template(build_dir / "template.yaml")
    resources = document["Resources"]
    defaults = document.get("Globals", {}).get("Function", {})
    found: dict[str, BuiltFunction] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = {**defaults, **resource["Properties"]}
        # SAM adds a function's Layers after the Globals' ones.
        references = [*defaults.get("Layers", []), *resource["Properties"].get("Layers", [])]
        layers = []
        for reference in references:
            if not isinstance(reference, dict) or "Ref" not in reference:
                raise ParityFailure(f"{logical_id}: layer {reference!r} is not built by this template")
            content = resources[reference["Ref"]]["Properties"]["ContentUri"]
            layers.append(Layer(reference["Ref"], (build_dir / content).resolve()))
        found[logical_id] = BuiltFunction(
            logical_id=logical_id,
            code_dir=(build_dir / properties["CodeUri"]).resolve(),
            handler=properties["Handler"],
            layers=tuple(layers),
            memory=int(properties.get("MemorySize", 128)),
            timeout=int(properties.get("Timeout", 3)),
            runtime=str(properties["Runtime"]),
        )
    return found


def _entries(directory: Path) -> set[str]:
    if not directory.is_dir():
        return set()
    return {p.name for p in directory.iterdir() if p.name not in ("__pycache__", "requirements.txt")}


def shadowed_names(function: BuiltFunction) -> list[str]:
    """Top-level modules, packages or metadata provided by more than one of the function's sources."""
    sources: dict[str, list[str]] = {}
    for name in _entries(function.code_dir) - {function.handler.split(".")[0] + ".py"}:
        sources.setdefault(name, []).append("function code")
    for layer in function.layers:
        for name in _entries(layer.python_dir):
            sources.setdefault(name, []).append(layer.logical_id)
    return sorted(f"{name}: in {' and '.join(where)}" for name, where in sources.items() if len(where) > 1)


def unzipped_bytes(paths: Iterable[Path]) -> int:
    total = 0
    for path in paths:
        for file in path.rglob("*"):
            if file.is_file() and "__pycache__" not in file.parts:
                total += file.stat().st_size
    return total


def function_bytes(function: BuiltFunction) -> int:
    """What Lambda counts against its 250 MB: the function's code and every one of its layers, unzipped."""
    return unzipped_bytes([function.code_dir, *(layer.root for layer in function.layers)])


def check_fit(functions: Iterable[BuiltFunction]) -> None:
    problems = []
    for function in functions:
        problems += [f"{function.logical_id}: {name}" for name in shadowed_names(function)]
        size = function_bytes(function)
        if size > MAX_UNZIPPED_BYTES:
            problems.append(f"{function.logical_id}: {size / 2**20:.1f} MB unzipped, over Lambda's 250 MB")
    if problems:
        raise ParityFailure("layers do not fit together:\n  " + "\n  ".join(problems))


def compiled_distributions(python_dir: Path) -> list[tuple[str, str, Path]]:
    """(name, version, dist-info) of every distribution whose wheel is not pure Python."""
    found = []
    for info in sorted(python_dir.glob("*.dist-info")):
        wheel = info / "WHEEL"
        if wheel.is_file() and "Root-Is-Purelib: false" in wheel.read_text(encoding="utf-8"):
            metadata = (info / "METADATA").read_text(encoding="utf-8").splitlines()
            fields = dict(line.split(": ", 1) for line in metadata if line.startswith(("Name: ", "Version: ")))
            found.append((fields["Name"], fields["Version"], info))
    return found


def top_level_names(info: Path) -> set[str]:
    """The layer entries a distribution installed. RECORD also lists files outside the install directory
    (``../../bin/f2py``: console scripts, which the layer recipe removes): never names of the layer's."""
    lines = (info / "RECORD").read_text(encoding="utf-8").splitlines()
    names = {line.split(",", 1)[0].split("/", 1)[0] for line in lines}
    return {name for name in names if name and name != ".." and not name.endswith(".data")} | {info.name}


def host_layer(layer: Layer, target_root: Path, python: str) -> Layer:
    """A copy of the layer whose compiled distributions are the same versions built for this machine."""
    marker = target_root / ".source"
    signature = f"{layer.root}:{max((p.stat().st_mtime for p in layer.root.rglob('*')), default=0)}"
    if marker.is_file() and marker.read_text(encoding="utf-8") == signature:
        return Layer(layer.logical_id, target_root)
    if target_root.exists():
        shutil.rmtree(target_root)
    shutil.copytree(layer.root, target_root, ignore=shutil.ignore_patterns("__pycache__"))
    copy_dir = target_root / "python"
    for name, version, info in compiled_distributions(copy_dir):
        for entry in top_level_names(info):
            path = copy_dir / entry
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        with tempfile.TemporaryDirectory() as scratch:
            pip = [
                python,
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--root-user-action=ignore",
                "--no-deps",
            ]
            target = ["--only-binary=:all:", "--target", scratch, f"{name}=={version}"]
            subprocess.run([*pip, *target], check=True)
            for installed in Path(scratch).iterdir():
                shutil.move(str(installed), copy_dir / installed.name)
    marker.write_text(signature, encoding="utf-8")
    return Layer(layer.logical_id, target_root)
