"""`sam local start-api` against the local stack: the env-vars file and the command (local/sam_env.py).

The file's effect through SAM CLI's own code is checked by `make parity`
(tools/sam_local_check.py); a running stack writing it, by test_local_mode.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.config import ConfigError, LocalConfig, config_from_environment
from local.sam_env import (
    emulator_variables,
    linux_note,
    main,
    sam_environment,
    sam_port,
    start_api_command,
    write_sam_environment,
)
from tools.intrinsics import Resolver
from tools.sam import transformed_template
from tools.sam_local import EMULATOR_VARIABLES

CONFIG = LocalConfig(aws_port=4001, api_port=4000, state_dir=Path("/tmp/sam-env-test"))


def resolver(config: LocalConfig = CONFIG) -> Resolver:
    return Resolver(transformed_template(), config.stack_name, config.region, {"ApiType": config.api_type})


def test_given_a_stack_then_every_function_is_told_the_emulator_as_a_container_reaches_it():
    shared = sam_environment(resolver(), CONFIG)["Parameters"]

    assert set(shared) == set(EMULATOR_VARIABLES)  # the variables the local templates declare, no more
    assert shared["AWS_ENDPOINT_URL"] == "http://host.docker.internal:4001"
    assert (shared["AWS_ACCESS_KEY_ID"], shared["AWS_SECRET_ACCESS_KEY"]) == ("local", "local")
    assert shared["AWS_REGION"] == shared["AWS_DEFAULT_REGION"] == CONFIG.region


def test_given_a_stack_then_each_function_gets_its_own_variables_with_the_stack_names():
    names = resolver()
    document = sam_environment(names, CONFIG)

    assert {"CollectorFunction", "HttpCollectorFunction", "AuthorizerFunction", "FanOutFunction"} <= set(document)
    for collector in ("CollectorFunction", "HttpCollectorFunction"):  # one file serves either API type
        assert document[collector]["DELIVERY_STREAM_NAME"] == names.physical_name("DeliveryStream")
        assert document[collector]["TENANT_KEYS_TABLE_NAME"] == names.physical_name("TenantKeysTable")
    assert document["FanOutFunction"]["LAKE_BUCKET_NAME"] == names.physical_name("LakeBucket")
    assert "DELIVERY_STREAM_NAME" not in document["FanOutFunction"]  # only a function's own variables
    logical_ids = set(names.template["Resources"])
    values = [value for block in document.values() for value in block.values()]
    assert not logical_ids & set(values)
    assert all(isinstance(value, str) for value in values)


def test_given_a_state_dir_when_written_then_sam_env_json_beside_stack_json(tmp_path):
    config = LocalConfig(state_dir=tmp_path / "state")

    path = write_sam_environment(resolver(config), config)

    assert path == tmp_path / "state" / "sam-env.json"
    assert json.loads(path.read_text(encoding="utf-8")) == sam_environment(resolver(config), config)


@pytest.mark.parametrize("api_type", ["REST", "HTTP"])
def test_given_an_api_type_then_the_command_serves_its_template_with_the_env_file_on_a_free_port(api_type):
    command = start_api_command(CONFIG, api_type, system="Darwin")

    assert command[:3] == [".venv-sam/bin/sam", "local", "start-api"]
    arguments = dict(zip(command[3::2], command[4::2], strict=True))
    assert arguments == {
        "--template": f".aws-sam/build/template-{api_type.lower()}.yaml",
        "--env-vars": "/tmp/sam-env-test/sam-env.json",
        "--port": "3002",
    }


def test_given_the_ports_taken_by_the_stack_then_sam_listens_on_the_next_one():
    assert sam_port(LocalConfig(api_port=3002, aws_port=3003)) == 3004
    assert sam_port(LocalConfig()) == 3002


def test_given_linux_and_the_docker_address_then_the_name_is_mapped_to_it():
    config = LocalConfig(docker_address="172.17.0.1")

    command = start_api_command(config, "REST", system="Linux")

    assert command[-2:] == ["--add-host", "host.docker.internal:172.17.0.1"]
    assert linux_note(config, system="Linux") is None


def test_given_linux_without_the_docker_address_then_no_mapping_and_a_note_saying_what_to_set():
    command = start_api_command(LocalConfig(), "REST", system="Linux")
    note = linux_note(LocalConfig(), system="Linux")

    assert "--add-host" not in command
    assert note is not None
    assert "LOCAL_AWS_DOCKER_ADDRESS" in note


def test_given_docker_desktop_then_no_mapping_and_no_note():
    config = LocalConfig(docker_address="172.17.0.1")  # set or not, Docker Desktop maps the name itself

    assert "--add-host" not in start_api_command(config, "HTTP", system="Darwin")
    assert linux_note(LocalConfig(), system="Windows") is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("docker0", "is not an IP address"),
        ("0.0.0.0", "every network"),  # noqa: S104 - refused, never bound
        ("::", "every network"),
        ("127.0.0.1", "loopback"),
    ],
)
def test_given_an_unusable_docker_address_then_refused_naming_the_variable(monkeypatch, value, message):
    monkeypatch.setenv("LOCAL_AWS_DOCKER_ADDRESS", value)

    with pytest.raises(ConfigError, match=message) as refused:
        config_from_environment()

    assert str(refused.value).startswith(f"LOCAL_AWS_DOCKER_ADDRESS={value!r}")


def test_given_a_docker_address_then_read(monkeypatch):
    monkeypatch.setenv("LOCAL_AWS_DOCKER_ADDRESS", " 172.17.0.1 ")

    assert config_from_environment().docker_address == "172.17.0.1"


def test_given_emulator_variables_then_exactly_the_declared_ones():
    assert list(emulator_variables(CONFIG)) == list(EMULATOR_VARIABLES)


def test_given_an_unknown_api_type_when_make_sam_local_then_refused_before_anything(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))

    assert main(["--api-type", "soap"]) == 2
    assert "API_TYPE='SOAP' must be REST or HTTP" in capsys.readouterr().err


def test_given_no_running_stack_when_make_sam_local_then_it_says_start_make_local(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))

    assert main([]) == 1
    assert "start one with `make local`" in capsys.readouterr().err
