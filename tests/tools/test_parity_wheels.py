"""`make parity` reads every deployed wheel's tags (tools/parity/wheels.py): the rehearsal itself runs this
machine's builds of compiled packages, so only the tags tell whether the arm64 ones that deploy would load.
Shown on synthetic dist-info folders; no `sam build` needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.parity.build import Layer, ParityFailure
from tools.parity.wheels import check_wheels, wheel_problems


def layer(root: Path, name: str, wheels: dict[str, str | None]) -> Layer:
    """A built layer holding one dist-info per entry: its WHEEL text (None: no WHEEL file)."""
    for distribution, text in wheels.items():
        info = root / name / "python" / f"{distribution}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Name: {distribution}\n", encoding="utf-8")
        if text is not None:
            (info / "WHEEL").write_text(text, encoding="utf-8")
    return Layer(name, root / name)


def wheel(*tags: str, pure: bool = False) -> str:
    lines = ["Wheel-Version: 1.0", "Generator: bdist_wheel", f"Root-Is-Purelib: {str(pure).lower()}"]
    return "\n".join([*lines, *(f"Tag: {tag}" for tag in tags)]) + "\n"


def test_given_the_runtime_s_wheels_when_checked_then_nothing_is_reported(tmp_path):
    deps = layer(
        tmp_path,
        "Deps",
        {
            "pydantic_core-2.46.5": wheel("cp313-cp313-manylinux_2_17_aarch64", "cp313-cp313-manylinux2014_aarch64"),
            "pyarrow-25.0.1": wheel("cp313-cp313-manylinux_2_28_aarch64"),
            "cryptography-46.0.0": wheel("cp311-abi3-manylinux_2_34_aarch64"),
            "jsonschema_rs-0.61.2": wheel("cp310-abi3-manylinux_2_28_aarch64"),  # the Dependencies layer's
            "boto3-1.44.5": wheel("py3-none-any", pure=True),
            "six-1.17.0": wheel("py2-none-any", "py3-none-any", pure=True),
        },
    )

    assert wheel_problems([deps]) == []
    check_wheels([deps])


@pytest.mark.parametrize(
    ("tags", "pure", "named"),
    [
        (("cp313-cp313-manylinux_2_17_x86_64",), False, "manylinux_2_17_x86_64 is not manylinux aarch64"),
        (("cp313-cp313-manylinux_2_39_aarch64",), False, "needs glibc 2.39, newer than Amazon Linux 2023's 2.34"),
        (("cp313-cp313-musllinux_1_2_aarch64",), False, "musllinux_1_2_aarch64 is not manylinux aarch64"),
        (("cp313-cp313-macosx_11_0_arm64",), False, "macosx_11_0_arm64 is not manylinux aarch64"),
        (("cp312-cp312-manylinux_2_17_aarch64",), False, "cp312-cp312 is neither cp313 nor abi3"),
        (("cp313-cp313t-manylinux_2_17_aarch64",), False, "cp313-cp313t is neither cp313 nor abi3"),
        (("cp314-abi3-manylinux_2_17_aarch64",), False, "cp314-abi3 is neither cp313 nor abi3"),
        (("cp313-cp313-manylinux_2_17_aarch64", "cp313-cp313-manylinux_2_17_x86_64"), False, "x86_64"),
        (("py2-none-any",), True, "pure wheel tagged py2-none-any, not py3-none-any"),
        ((), True, "no Tag in WHEEL"),
    ],
)
def test_given_a_wheel_the_runtime_cannot_load_when_checked_then_the_failure_names_it_and_why(
    tmp_path, tags, pure, named
):
    deps = layer(tmp_path, "Arrow", {"fast-1.0": wheel(*tags, pure=pure), "fine-2.0": wheel("py3-none-any", pure=True)})

    with pytest.raises(ParityFailure) as failure:
        check_wheels([deps])

    (problem,) = wheel_problems([deps])
    assert problem.startswith("Arrow: fast-1.0.dist-info: ")
    assert named in problem
    assert problem in str(failure.value)
    assert "fine-2.0" not in str(failure.value)


def test_given_a_distribution_installed_without_a_wheel_when_checked_then_it_is_named(tmp_path):
    deps = layer(tmp_path, "Wrangler", {"legacy-0.1": None})

    assert wheel_problems([deps]) == ["Wrangler: legacy-0.1.dist-info: no WHEEL file (not installed from a wheel)"]
