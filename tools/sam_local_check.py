"""``make parity``'s check that ``sam local start-api`` serves exactly the deployed API, without Docker.

Importable only where SAM CLI is installed (``.venv-sam``): ``.venv-sam/bin/python
-m tools.sam_local_check``. For each ``ApiType`` it loads SAM CLI's own providers
on the template ``make build`` wrote for it (tools/sam_local.py), as ``sam local
start-api`` does (``SamLocalStackProvider.get_stacks``, ``ApiProvider``,
``SamFunctionProvider``), with an env-vars file written as ``make local`` writes
it (local/sam_env.py), and checks:

1. the routes are exactly the deployed API's (path and method, function,
   payload format) and CORS allows the same origin;
2. the Lambda authorizer is on exactly the routes that have it deployed, with
   the deployed function, type and identity header;
3. SAM CLI knows exactly the functions the stack deploys for that type, and
   runs each with every variable the local stack resolves (the emulator's
   names, no logical id), with the emulator's endpoint and stand-in
   credentials: SAM CLI's ``--env-vars`` rules, through its own code, against a
   shell that sets other values for all of them.

Docker is never touched: nothing is invoked. Private parts of SAM CLI are used
(``LocalLambdaRunner._make_env_vars``), so :func:`check_version` refuses a SAM
CLI other than the Makefile's.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import samcli

from local.config import DOCKER_HOST_NAME, FAKE_CREDENTIALS, LocalConfig
from local.sam_env import write_sam_environment
from tools.intrinsics import Resolver
from tools.sam import transformed_template
from tools.sam_local import API_PARAMETER, API_TYPES, BUILD_DIR, EMULATOR_VARIABLES, template_name
from tools.sam_local_expectations import (
    ApiSurface,
    Authorizer,
    Route,
    deployed_api,
    environment_problems,
    route_problems,
)

SUPPORTED = ("1.170.",)
# What a developer's shell may hold: SAM CLI gives a function a declared variable's shell value unless the
# env-vars file sets it, and passes the shell's credentials; the file must win over every one.
SHELL_VALUE = "from-the-shell"


class SamLocalMismatch(Exception):
    """SAM CLI would serve something else than the deployed API, or run a function against other names."""


def check_version() -> None:
    if not samcli.__version__.startswith(SUPPORTED):
        raise SamLocalMismatch(
            f"tools/sam_local_check.py reads SAM CLI {', '.join(SUPPORTED)}x internals; "
            f"{samcli.__version__} is installed"
        )


@dataclass(frozen=True)
class Report:
    api_type: str
    api: ApiSurface
    functions: list[str]
    endpoint: str


def served_api(stacks: list[Any], api_type: str, cwd: Path) -> tuple[ApiSurface, list[str]]:
    """What ``sam local start-api`` mounts, in the terms of :func:`deployed_api`, and the routes it would
    serve as the other API type (another event format)."""
    from samcli.lib.providers.api_provider import ApiProvider
    from samcli.local.apigw.authorizers.lambda_authorizer import HeaderIdentitySource, LambdaAuthorizer
    from samcli.local.apigw.route import Route as SamRoute

    api = ApiProvider(stacks, cwd=str(cwd)).api
    event_type = SamRoute.API if api_type == "REST" else SamRoute.HTTP
    any_method = set(SamRoute.ANY_HTTP_METHODS) - {"OPTIONS"}
    routes: dict[tuple[str, str], Route] = {}
    problems = []
    for route in api.routes:
        if route.event_type != event_type:
            problems.append(f"{route.path}: SAM CLI serves it as {route.event_type}, not {event_type}")
        methods = set(route.methods) - {"OPTIONS"}  # CORS preflights: SAM CLI answers them itself
        authorizer = None
        found = route.authorizer_object
        if found is not None:
            if not isinstance(found, LambdaAuthorizer):
                raise SamLocalMismatch(f"{route.path}: SAM CLI's authorizer {found!r} is not a Lambda authorizer")
            authorizer = Authorizer(
                name=str(route.authorizer_name),
                function=found.lambda_name,
                kind=found.type.upper(),
                identity_headers=tuple(
                    sorted(s.identity_source for s in found.identity_sources if isinstance(s, HeaderIdentitySource))
                ),
                payload_version=found.payload_version,
            )
        served = Route(route.function_name, authorizer, route.payload_format_version)
        for method in ["ANY"] if methods >= any_method else sorted(methods):
            if (route.path, method) in routes:
                problems.append(f"SAM CLI mounts {method} {route.path} twice")
            routes[(route.path, method)] = served
    return ApiSurface(api_type, routes, api.cors.allow_origin if api.cors else None), problems


@contextmanager
def shell_setting(names: set[str]) -> Iterator[None]:
    """``os.environ`` with other values for ``names`` and other credentials (no profile, no instance metadata)."""
    saved = dict(os.environ)
    try:
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(dict.fromkeys(names, SHELL_VALUE))
        os.environ.update({"AWS_ACCESS_KEY_ID": "shell-key", "AWS_SECRET_ACCESS_KEY": "shell-secret"})
        os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def check(api_type: str, build_dir: Path = BUILD_DIR) -> Report:
    """Raise :class:`SamLocalMismatch` listing every problem, or report what SAM CLI serves."""
    from samcli.commands.local.cli_common.invoke_context import InvokeContext
    from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    template = build_dir / template_name(api_type)
    if not template.is_file():
        raise SamLocalMismatch(f"{template} is missing: run `make build`")
    config = LocalConfig()
    transformed = transformed_template()
    resolver = Resolver(transformed, config.stack_name, config.region, {API_PARAMETER: api_type})
    # As `sam local start-api --template <it> --region <the stack's>` reads it.
    stacks, _ = SamLocalStackProvider.get_stacks(
        str(template), global_parameter_overrides={"AWS::Region": config.region}
    )
    served, problems = served_api(stacks, api_type, template.parent)
    problems += route_problems(deployed_api(api_type, transformed), served)
    with tempfile.TemporaryDirectory() as scratch:
        env_file = write_sam_environment(resolver, LocalConfig(state_dir=Path(scratch)))
        env_values = InvokeContext._get_env_vars_value(str(env_file))  # SAM CLI's own reader
    functions = SamFunctionProvider(stacks, ignore_code_extraction_warnings=True)
    deployed_functions = {
        logical_id
        for logical_id, resource in transformed["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and resolver.is_active(logical_id)
    }
    known = {function.name for function in functions.get_all()}
    if known != deployed_functions:
        problems.append(f"SAM CLI knows functions {sorted(known)}; the stack deploys {sorted(deployed_functions)}")
    runner = LocalLambdaRunner(
        local_runtime=None,  # nothing is invoked
        function_provider=functions,
        cwd=str(template.parent),
        real_path=str(template.parent),
        aws_region=config.region,
        env_vars_values=env_values,
    )
    resource_names = {logical_id: str(resolver.ref(logical_id)) for logical_id in transformed["Resources"]}
    emulator = {
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": f"http://{DOCKER_HOST_NAME}:{config.aws_port}",
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
    }
    for function in functions.get_all():
        declared = dict((function.environment or {}).get("Variables", {}))
        with shell_setting(set(declared)):
            environment = runner._make_env_vars(function).resolve()
        expected = {**env_values.get("Parameters", {}), **env_values.get(function.name, {})}
        problems += environment_problems(function.name, declared, environment, expected, resource_names)
        problems += [
            f"{function.name}.{name}={environment.get(name)!r}: the local stack's is {value!r}"
            for name, value in emulator.items()
            if environment.get(name) != value
        ]
    if problems:
        raise SamLocalMismatch(f"sam local start-api with ApiType={api_type}:\n  " + "\n  ".join(problems))
    return Report(api_type, served, sorted(known), emulator["AWS_ENDPOINT_URL"])


def describe(report: Report) -> str:
    api = report.api
    authorizers = sorted(
        {f"{r.authorizer.name} -> {r.authorizer.function}" for r in api.routes.values() if r.authorizer}
    )
    return (
        f"sam local start-api, ApiType={report.api_type}: {len(api.routes)} routes as deployed "
        f"({', '.join(f'{method} {path}' for path, method in sorted(api.routes))}); "
        f"authorizer {', '.join(authorizers) or 'none'} on {', '.join(api.authorized) or 'no route'}; "
        f"{len(report.functions)} functions, every variable the local stack's, AWS at {report.endpoint}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.sam_local_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR, help="sam build output (default .aws-sam/build)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    for noisy in ("samcli", "samtranslator"):  # notes about their own features (authorizer fidelity...)
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    failed = False
    try:
        check_version()
    except SamLocalMismatch as error:
        print(f"sam local check FAILED: {error}", file=sys.stderr)
        return 1
    for api_type in API_TYPES:
        try:
            print(describe(check(api_type, args.build_dir)))
        except SamLocalMismatch as error:
            print(f"sam local check FAILED: {error}", file=sys.stderr)
            failed = True
    if not failed:
        print(f"sam local: both API types serve the deployed API; {', '.join(sorted(EMULATOR_VARIABLES))} declared")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
