"""Handlers are imported once, each with only its own environment, before any thread of the local stack serves.

An import swaps ``os.environ`` for the whole process (local/functions.py); done lazily on a first invocation, it
overlapped requests that other threads (gateway, AWS emulator, asynchronous invoker) were serving, and a request
reading the environment in that window saw another function's variables, or none.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from local.functions import PROCESS_PREFIXES, PROCESS_VARIABLES
from local.lambdas import LocalFunction
from tools.template import ROOT

# Run in a child: the imports must not leave these modules in the test process, under the local stack's names.
PROBE = """
import json, os
from contextlib import contextmanager
import local.functions as functions
from local.lambdas import LocalFunctions
from tools.intrinsics import Resolver
from tools.sam import transformed_template

os.environ.update({"AWS_DEFAULT_REGION": "eu-west-1", "NOT_A_FUNCTION_VARIABLE": "leak"})
before = dict(os.environ)
seen = {}
original = functions.function_environment

@contextmanager
def recording(variables):
    with original(variables):
        seen[variables["_PROBE_NAME"]] = {"environ": dict(os.environ)}
        yield

functions.function_environment = recording
loaded = LocalFunctions(Resolver(transformed_template(), "probe", "eu-west-1"))
for function in loaded.by_name.values():
    function.environment["_PROBE_NAME"] = function.logical_id
loaded.load_all()
loaded.load_all()  # a second time imports nothing
own = {f.logical_id: sorted(f.environment) for f in loaded.by_name.values()}
print(json.dumps({"seen": seen, "own": own, "restored": dict(os.environ) == before}))
"""


@pytest.fixture(scope="module")
def probed() -> dict:
    env = {key: value for key, value in os.environ.items() if key != "AWS_ENDPOINT_URL"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_function_is_imported_once_by_load_all(probed: dict) -> None:
    assert set(probed["seen"]) == set(probed["own"])
    assert {"AuthorizerFunction", "CollectorFunction", "FanOutFunction"} <= set(probed["seen"])


def test_each_function_sees_only_its_own_variables_and_the_process_basics(probed: dict) -> None:
    for logical_id, seen in probed["seen"].items():
        environ = seen["environ"]
        own = set(probed["own"][logical_id])
        others = {name for name in environ if name not in own}
        assert own <= set(environ), logical_id
        assert all(name in PROCESS_VARIABLES or name.startswith(PROCESS_PREFIXES) for name in others), sorted(others)
        assert "NOT_A_FUNCTION_VARIABLE" not in environ
    assert "DELIVERY_STREAM_NAME" not in probed["seen"]["AuthorizerFunction"]["environ"]
    assert "DELIVERY_STREAM_NAME" in probed["seen"]["CollectorFunction"]["environ"]


def test_the_process_environment_is_restored_after_the_imports(probed: dict) -> None:
    assert probed["restored"]


def test_a_function_not_loaded_before_serving_is_never_imported_by_an_invocation() -> None:
    function = LocalFunction("Probe", "probe", "arn:probe", "collector", "lambda_handler", 3, 128, {"A": "b"})

    with pytest.raises(RuntimeError, match="not loaded before serving"):
        function.invoke({})


# The local stack imports them before it starts any thread: tests/local/test_lifecycle.py holds a stack right after
# the imports and finds neither of its ports listening.
