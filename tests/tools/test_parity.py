"""`make parity`'s checks catch what would break in the cloud, shown on small synthetic builds.

The real rehearsal (sam build + Python 3.13 + moto) runs in `make parity`
(.ci/run); these tests run its machinery on hand-made layers so each failure
class is proven to be caught, without a build.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from tools.parity.build import (
    BuiltFunction,
    Layer,
    ParityFailure,
    built_functions,
    compiled_distributions,
    shadowed_names,
    top_level_names,
    unzipped_bytes,
)
from tools.parity.rehearsal import Rehearsal, Step, check_every_function_rehearsed, steps
from tools.parity.runtime import invoke, python_path, runtime_standins
from tools.parity.sizes import report
from tools.template import resources_of_type


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def layer(root: Path, name: str, files: dict[str, str]) -> Layer:
    for relative, text in files.items():
        write(root / name / "python" / relative, text)
    return Layer(name, root / name)


def function(root: Path, code: str, layers: tuple[Layer, ...]) -> BuiltFunction:
    write(root / "Fn" / "app.py", code)
    # The runtime the rehearsal checks against is the interpreter running these tests.
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return BuiltFunction("Fn", root / "Fn", "app.lambda_handler", layers, 128, 3, runtime)


def run(tmp_path: Path, fn: BuiltFunction, event: object = None) -> dict:
    paths = python_path(fn, fn.layers, runtime_standins(tmp_path / "runtime"))
    env = {"PATH": os.environ.get("PATH", "")}
    return invoke(sys.executable, fn, paths, event or {}, env, report_modules=["fakelib"])


def one_step_rehearsal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fn: BuiltFunction) -> Rehearsal:
    """A rehearsal of ``fn`` alone, its layers as given, with an empty ``sample.json`` event."""
    monkeypatch.setattr("tools.parity.rehearsal.EVENTS", tmp_path)
    write(tmp_path / "sample.json", "{}")
    return Rehearsal(
        sys.executable,
        {"Fn": fn},
        lambda _: {"PATH": os.environ.get("PATH", "")},
        {layer.logical_id: layer for layer in fn.layers},
        runtime_standins(tmp_path / "runtime"),
    )


def test_given_a_handler_importing_a_name_the_layer_version_lacks_when_rehearsed_then_init_fails(tmp_path):
    old = layer(tmp_path, "Deps", {"fakelib/__init__.py": "VERSION = '1.0'\n"})  # `newthing` arrives in 2.0
    fn = function(tmp_path, "from fakelib import newthing\ndef lambda_handler(e, c):\n    return 1\n", (old,))

    outcome = run(tmp_path, fn)

    assert outcome["phase"] == "init"
    assert "ImportError" in outcome["error"]
    assert "newthing" in outcome["error"]


def test_given_the_same_failure_when_run_as_a_step_then_the_rehearsal_stops_with_a_parity_failure(
    tmp_path, monkeypatch
):
    old = layer(tmp_path, "Deps", {"fakelib/__init__.py": ""})
    fn = function(tmp_path, "from fakelib import newthing\ndef lambda_handler(e, c):\n    return 1\n", (old,))
    rehearsal = one_step_rehearsal(tmp_path, monkeypatch, fn)

    with pytest.raises(ParityFailure, match="failed at init: ImportError"):
        rehearsal.run(Step("Fn", "sample.json"))


def test_given_a_handler_that_relies_on_the_runtime_boto3_when_rehearsed_then_it_fails_loudly(tmp_path):
    empty = layer(tmp_path, "Deps", {"other/__init__.py": ""})
    fn = function(tmp_path, "import boto3\ndef lambda_handler(e, c):\n    return 1\n", (empty,))

    outcome = run(tmp_path, fn)

    assert outcome["phase"] == "init"
    assert "came from the Lambda runtime" in outcome["error"]


def test_given_two_layers_that_ship_the_same_package_when_checked_then_the_shadowing_is_reported(tmp_path):
    first = layer(tmp_path, "Deps", {"fakelib/__init__.py": "", "fakelib-1.0.dist-info/METADATA": ""})
    second = layer(tmp_path, "Arrow", {"fakelib/__init__.py": "", "fakelib-2.0.dist-info/METADATA": "", "own.py": ""})
    fn = function(tmp_path, "def lambda_handler(e, c):\n    return 1\n", (first, second))

    assert shadowed_names(fn) == ["fakelib: in Deps and Arrow"]


def test_given_a_handler_in_a_clean_interpreter_when_invoked_then_only_its_own_paths_are_importable(tmp_path):
    deps = layer(tmp_path, "Deps", {"fakelib/__init__.py": "def double(x):\n    return 2 * x\n"})
    code = """
        import sys
        import fakelib
        def lambda_handler(event, context):
            try:
                import pytest  # installed in the test venv, not in any layer
                leaked = True
            except ImportError:
                leaked = False
            return {"double": fakelib.double(event["n"]), "leaked": leaked, "left": context.get_remaining_time_in_millis()}
    """
    fn = function(tmp_path, code, (deps,))

    outcome = run(tmp_path, fn, {"n": 21})

    assert outcome["phase"] == "done", outcome
    assert outcome["response"]["double"] == 42
    assert outcome["response"]["leaked"] is False
    assert 0 < outcome["response"]["left"] <= 3000
    assert outcome["modules"]["fakelib"].endswith("Deps/python/fakelib/__init__.py")


def test_given_layer_contents_when_measured_then_compiled_wheels_and_size_are_found(tmp_path):
    deps = layer(
        tmp_path,
        "Deps",
        {
            "fast-1.2.dist-info/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp313-cp313-manylinux_2_17_aarch64\n",
            "fast-1.2.dist-info/METADATA": "Metadata-Version: 2.1\nName: fast\nVersion: 1.2\n",
            "pure-3.0.dist-info/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            "pure-3.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: pure\nVersion: 3.0\n",
        },
    )
    big = deps.python_dir / "blob.bin"
    with big.open("wb") as handle:
        handle.truncate(251 * 1024 * 1024)  # sparse: no real disk used

    assert [(name, version) for name, version, _ in compiled_distributions(deps.python_dir)] == [("fast", "1.2")]
    assert unzipped_bytes([deps.root]) > 250 * 1024 * 1024


def test_given_a_distribution_with_console_scripts_when_its_files_are_listed_then_nothing_outside_the_layer_is(
    tmp_path,
):
    # pip --target records scripts as ../../bin/...: swapping the distribution must not delete the layer's parent.
    deps = layer(
        tmp_path,
        "Deps",
        {
            "numpy-2.4.6.dist-info/RECORD": "numpy/__init__.py,sha256=x,1\nnumpy.libs/libopenblas.so,sha256=x,1\n"
            "../../bin/f2py,sha256=x,1\nnumpy-2.4.6.dist-info/RECORD,,\n",
        },
    )

    names = top_level_names(deps.python_dir / "numpy-2.4.6.dist-info")

    assert names == {"numpy", "numpy.libs", "numpy-2.4.6.dist-info"}


def test_given_built_functions_when_sized_then_each_total_is_printed_against_the_limit_and_one_over_fails(tmp_path):
    small = layer(tmp_path, "Small", {"lib/__init__.py": "x = 1\n"})
    big = layer(tmp_path, "Big", {"blob/__init__.py": ""})
    with (big.python_dir / "blob" / "data.bin").open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse
    lean = function(tmp_path / "lean", "def lambda_handler(e, c):\n    return 1\n", (small,))
    heavy = BuiltFunction("Heavy", lean.code_dir, lean.handler, (small, big, big), 128, 3, lean.runtime)

    lines, fits = report([lean, heavy])

    assert not fits
    assert any(line.split()[:2] == ["Big", "200.0"] and line.endswith("layer") for line in lines)
    assert any(line.startswith("  Fn ") and "of 250 MB" in line and "to spare" in line for line in lines)
    (over,) = [line for line in lines if line.startswith("  Heavy ")]
    assert "400.0 MB of 250 MB, OVER the limit (code + Small + Big + Big)" in over
    assert report([lean])[1]


def test_given_a_step_whose_effect_in_aws_is_missing_when_rehearsed_then_it_fails(tmp_path, monkeypatch):
    deps = layer(tmp_path, "Deps", {"other/__init__.py": ""})
    fn = function(tmp_path, "def lambda_handler(e, c):\n    return {'raw_tables': ['track']}\n", (deps,))
    rehearsal = one_step_rehearsal(tmp_path, monkeypatch, fn)

    with pytest.raises(ParityFailure, match="nothing registered"):
        rehearsal.run(Step("Fn", "sample.json", verify=lambda response, outputs: "nothing registered"))


def test_given_the_real_template_when_built_then_every_function_is_found_with_its_layers_in_order(tmp_path):
    from tools.template import ROOT

    build = tmp_path / "build"
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    write(build / "template.yaml", text)

    functions = built_functions(build)

    for name in ("CompactionCompactFunction", "CompactionRefreshFunction"):
        assert [layer.logical_id for layer in functions[name].layers] == [
            "CommonLayer",
            "DependenciesLayer",
            "ArrowLayer",
            "WranglerLayer",
        ]
    assert all(fn.runtime == "python3.13" for fn in functions.values())
    assert functions["CollectorFunction"].code_dir == (build / "functions/collector").resolve()


def test_given_a_codec_the_deployed_library_lacks_when_a_step_invokes_it_then_the_rehearsal_fails(
    tmp_path, monkeypatch
):
    # The AWS SDK for pandas layer's Arrow had no ZSTD: the failure only shows when the handler runs.
    arrow = layer(
        tmp_path,
        "Arrow",
        {
            "fakearrow/__init__.py": "def write(codec):\n    if codec != 'snappy':\n        raise OSError(f'{codec} not built')\n"
        },
    )
    fn = function(tmp_path, "import fakearrow\ndef lambda_handler(e, c):\n    fakearrow.write('zstd')\n", (arrow,))
    rehearsal = one_step_rehearsal(tmp_path, monkeypatch, fn)

    with pytest.raises(ParityFailure, match="zstd not built"):
        rehearsal.run(Step("Fn", "sample.json"))


def test_given_the_real_template_when_its_functions_are_listed_then_every_one_has_a_rehearsal_step():
    names = {name: name for name in ("RawBucket", "AthenaResultsBucket")}
    pipeline = steps(names, "http://127.0.0.1:1/response")
    stand_in = BuiltFunction("Fn", Path(), "app.lambda_handler", (), 128, 3, "python3.13")
    functions = dict.fromkeys(resources_of_type("AWS::Serverless::Function"), stand_in)

    check_every_function_rehearsed(functions, pipeline)
    with pytest.raises(ParityFailure, match="NewFunction"):
        check_every_function_rehearsed({**functions, "NewFunction": stand_in}, pipeline)
