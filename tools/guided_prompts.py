"""The prompts of `sam deploy --guided`, as SAM CLI prints them, against docs/deploy.md's table.

``python -m tools.guided_prompts`` runs in SAM CLI's own environment (``.venv-sam``, which ``make build``
installs): it drives SAM CLI's guided deploy (``GuidedContext.guided_prompts``) on template.yaml with samconfig.toml's
defaults, answers every prompt with its default, stops where SAM CLI would first call AWS, and prints each
prompt, then the change set's, one a line. ``--check docs/deploy.md`` compares them, in order, with the
prompts the document's table lists (the code span that starts each row) and fails on any difference.
The parsing and comparison import nothing of SAM CLI, so the tests run them anywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ROW_PROMPT = re.compile(r"^\|\s*`([^`]+)`")


def documented_prompts(markdown: str) -> list[str]:
    """The prompts a document's prompt table lists: the code span opening each row of the table under the
    heading that names ``sam deploy --guided``."""
    prompts, in_section = [], False
    for line in markdown.splitlines():
        if line.startswith("## "):
            in_section = "sam deploy --guided" in line
        elif in_section:
            found = _ROW_PROMPT.match(line)
            if found:
                prompts.append(found.group(1))
    return prompts


def differences(documented: list[str], printed: list[str]) -> list[str]:
    """Each place where the document's prompts and SAM CLI's differ, in order; empty when they agree."""
    problems = []
    for index in range(max(len(documented), len(printed))):
        ours = documented[index] if index < len(documented) else None
        theirs = printed[index] if index < len(printed) else None
        if ours != theirs:
            problems.append(f"prompt {index + 1}: docs say {ours!r}, SAM CLI prints {theirs!r}")
    return problems


def printed_prompts(template: Path = ROOT / "template.yaml", config: Path = ROOT / "samconfig.toml") -> list[str]:
    """What SAM CLI prints at each prompt of a guided deploy, every answer its default (needs SAM CLI)."""
    import click
    from click.testing import CliRunner
    from samcli.commands._utils.template import get_template_parameters
    from samcli.commands.deploy import guided_context
    from samcli.commands.deploy.deploy_context import DeployContext

    saved = tomllib.loads(config.read_text(encoding="utf-8"))["default"]
    deploy = {**saved.get("global", {}).get("parameters", {}), **saved.get("deploy", {}).get("parameters", {})}

    class ReachedAws(Exception):
        """Where SAM CLI would look for its managed bucket: every prompt before it was shown."""

    def reached_aws(*_: object, **__: object) -> None:
        raise ReachedAws

    context = guided_context.GuidedContext(
        template_file=str(template),
        stack_name=deploy.get("stack_name"),
        s3_bucket=None,
        image_repository=None,
        image_repositories=None,
        s3_prefix=None,
        confirm_changeset=deploy.get("confirm_changeset", False),
        capabilities=deploy.get("capabilities"),
        config_file=None,  # as without --config-file: samconfig.toml
        disable_rollback=False,
    )
    guided_context.manage_stack = reached_aws
    environment = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/nonexistent", "AWS_PROFILE": None}
    answers = "\n" * (len(get_template_parameters(str(template))) + 50)  # Enter: every default
    with CliRunner().isolation(input=answers, env=environment) as output, contextlib.suppress(ReachedAws):
        # GuidedContext.run() less its showcase of samconfig.toml (it needs a click command's context).
        context.guided_prompts(get_template_parameters(str(template)))
    with CliRunner().isolation(input="\n", env=environment) as confirmation:
        # After the change set is printed (DeployContext.deploy), with SAM CLI's own message and default.
        click.confirm(DeployContext.MSG_CONFIRM_CHANGESET, default=False)
    # (stdout first in the tuple click yields, whatever its version)
    text = output[0].getvalue().decode() + confirmation[0].getvalue().decode()
    # A prompt is the line click ends with ": " and the (empty) answer: nothing else SAM CLI prints ends so.
    lines = (_ANSI.sub("", line) for line in text.splitlines())
    return [line.strip() for line in lines if line.endswith(": ")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.guided_prompts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", type=Path, help="a document whose prompt table must list exactly these prompts")
    args = parser.parse_args(argv)
    printed = printed_prompts()
    if args.check is None:
        print("\n".join(printed))
        return 0
    problems = differences(documented_prompts(args.check.read_text(encoding="utf-8")), printed)
    for problem in problems:
        print(f"{args.check}: {problem}", file=sys.stderr)
    if not problems:
        print(f"{args.check}: the {len(printed)} prompts of `sam deploy --guided`, as SAM CLI prints them")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
