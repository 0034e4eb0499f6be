"""``sam local start-api`` against this stack's AWS emulator: the env-vars file, the command, ``make sam-local``.

SAM CLI runs each function in a Lambda container, with its template variables
resolved by SAM CLI alone: a ``!Ref`` to a table becomes the table's logical id.
``make local`` therefore writes ``<LOCAL_STATE_DIR>/sam-env.json`` (SAM's
``--env-vars`` format) while the stack runs:

- ``Parameters`` (applied to every function, for the variables its template
  declares): where AWS is, the emulator seen from a container
  (``http://host.docker.internal:<LOCAL_AWS_PORT>``), with the stand-in
  credentials and region; the local templates declare these
  (tools/sam_local.py, :data:`~tools.sam_local.EMULATOR_VARIABLES`);
- one block per function (by logical id): its own variables resolved as this
  stack resolved them, so every name is one the emulator holds. Both
  collectors are listed, so one file serves either API type.

:func:`start_api_command` is what the banner prints and ``make sam-local``
runs (docs/local-mode.md has when to use which).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import Any

from local.config import DOCKER_HOST_NAME, FAKE_CREDENTIALS, LocalConfig
from local.preflight import write_atomically
from tools.intrinsics import Resolver
from tools.sam_local import API_TYPES, BUILD_DIR, EMULATOR_VARIABLES, template_name
from tools.template import ROOT

DEFAULT_SAM_PORT = 3002
SAM = ROOT / ".venv-sam" / "bin" / "sam"


def emulator_variables(config: LocalConfig) -> dict[str, str]:
    """What every function is told about AWS: the emulator as a container reaches it, the stand-in credentials."""
    values = {
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": f"http://{DOCKER_HOST_NAME}:{config.aws_port}",
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
    }
    return {name: values[name] for name in EMULATOR_VARIABLES}


def sam_environment(resolver: Resolver, config: LocalConfig) -> dict[str, dict[str, str]]:
    """The ``--env-vars`` document: :func:`emulator_variables` for all, each function's own variables by logical id."""
    document = {"Parameters": emulator_variables(config)}
    for logical_id, resource in resolver.template["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        variables = resolver.resolve(resource["Properties"].get("Environment", {}).get("Variables", {}))
        document[logical_id] = {name: str(value) for name, value in variables.items()}
    return document


def write_sam_environment(resolver: Resolver, config: LocalConfig) -> Path:
    config.state_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(config.sam_env_file, json.dumps(sam_environment(resolver, config), indent=2) + "\n")
    return config.sam_env_file


def sam_port(config: LocalConfig) -> int:
    """The port ``sam local start-api`` listens on: 3002, or the next one this stack does not use."""
    port = DEFAULT_SAM_PORT
    while port in (config.api_port, config.aws_port):
        port += 1
    return port


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def start_api_command(config: LocalConfig, api_type: str, system: str | None = None) -> list[str]:
    """``sam local start-api`` serving ``api_type``'s API (built by ``make build``) against this stack.

    On Linux, Docker Engine maps no ``host.docker.internal``, and SAM CLI 1.170's
    ``--docker-network host`` leaves the containers on the default bridge, where
    127.0.0.1 is their own: with ``LOCAL_AWS_DOCKER_ADDRESS`` (the bridge's address,
    on which the emulator then listens too) the name is mapped to it. Docker Desktop
    maps the name itself."""
    command = [
        _shown(SAM),
        "local",
        "start-api",
        "--template",
        _shown(BUILD_DIR / template_name(api_type)),
        "--env-vars",
        _shown(config.sam_env_file),
        "--port",
        str(sam_port(config)),
    ]
    if (system or platform.system()) == "Linux" and config.docker_address:
        command += ["--add-host", f"{DOCKER_HOST_NAME}:{config.docker_address}"]
    return command


def linux_note(config: LocalConfig, system: str | None = None) -> str | None:
    """What a Linux user must do first, when the containers could not reach the emulator yet."""
    if (system or platform.system()) != "Linux" or config.docker_address:
        return None
    return (
        "Linux with Docker Engine: restart with LOCAL_AWS_DOCKER_ADDRESS=<the docker0 address, e.g. 172.17.0.1> "
        "so the Lambda containers reach the AWS emulator"
    )


def sam_local_info(config: LocalConfig) -> dict[str, Any]:
    """``stack.json``'s ``sam_local``: the env-vars file and the command for each API type."""
    return {
        "env_file": str(config.sam_env_file),
        "start_api": {api_type: start_api_command(config, api_type) for api_type in API_TYPES},
    }


def main(argv: list[str] | None = None) -> int:
    """``make sam-local [API_TYPE=REST|HTTP]``: run ``sam local start-api`` against the running local stack."""
    from local.compact import load_stack_info

    parser = argparse.ArgumentParser(prog="make sam-local", description=main.__doc__)
    parser.add_argument("--api-type", type=str.upper, help="REST or HTTP (default: the running stack's)")
    args = parser.parse_args(argv)
    if args.api_type is not None and args.api_type not in API_TYPES:
        print(f"make sam-local: API_TYPE={args.api_type!r} must be REST or HTTP", file=sys.stderr)
        return 2
    info = load_stack_info()
    if info is None:
        return 1
    api_type = args.api_type or info["api_type"]
    sam_local = info.get("sam_local")
    if not isinstance(sam_local, dict):
        print("make sam-local: the running stack's stack.json has no sam_local: restart `make local`", file=sys.stderr)
        return 1
    command = list(sam_local["start_api"][api_type])
    template = ROOT / command[command.index("--template") + 1]
    for needed, remedy in ((ROOT / command[0], "make build installs it"), (template, "run `make build`")):
        if not needed.is_file():
            print(f"make sam-local: {_shown(needed)} is missing: {remedy}", file=sys.stderr)
            return 1
    if platform.system() == "Linux" and "--add-host" not in command:
        print(
            f"make sam-local: no {DOCKER_HOST_NAME} mapping; on Linux with Docker Engine the containers will not "
            "reach the AWS emulator unless the stack runs with LOCAL_AWS_DOCKER_ADDRESS (docs/local-mode.md)",
            file=sys.stderr,
        )
    print(shlex.join(command), flush=True)
    os.chdir(ROOT)
    os.execv(command[0], command)  # noqa: S606 - SAM CLI from our own venv, arguments we built


if __name__ == "__main__":
    sys.exit(main())
