"""docs/deploy.md's prompt table against the prompts SAM CLI's `sam deploy --guided` prints (tools/guided_prompts.py)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tools.guided_prompts import differences, documented_prompts
from tools.template import ROOT

SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
TABLE = """\
## 1. Build
| `make build` | not a prompt |

## 2. `sam deploy --guided`, prompt by prompt
| Prompt | Answer |
|---|---|
| `Stack Name [sam-app]:` | a name |
| `Parameter A [1]:` | `1`, or `2` |

## Alarms
| `SomeAlarm` | not a prompt |
"""


def test_given_a_deploy_guide_when_its_prompts_are_read_then_only_the_guided_table_s_first_code_spans_count():
    assert documented_prompts(TABLE) == ["Stack Name [sam-app]:", "Parameter A [1]:"]


def test_given_prompts_that_differ_when_compared_then_each_difference_is_named_in_order():
    printed = ["Stack Name [sam-app]:", "Parameter A [1]:", "Parameter B []:"]

    assert differences(["Stack Name [sam-app]:", "Parameter A [1]:", "Parameter B []:"], printed) == []
    assert differences(["Stack Name [sam-app]", "Parameter A [1]:"], printed) == [
        "prompt 1: docs say 'Stack Name [sam-app]', SAM CLI prints 'Stack Name [sam-app]:'",
        "prompt 3: docs say None, SAM CLI prints 'Parameter B []:'",
    ]


@pytest.mark.skipif(not SAM_PYTHON.exists(), reason="needs SAM CLI in .venv-sam (make build installs it)")
def test_given_sam_cli_s_guided_deploy_when_every_prompt_is_answered_then_docs_deploy_md_lists_them_as_printed():
    checked = subprocess.run(
        [str(SAM_PYTHON), "-m", "tools.guided_prompts", "--check", "docs/deploy.md"],
        cwd=ROOT,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert checked.returncode == 0, checked.stderr
