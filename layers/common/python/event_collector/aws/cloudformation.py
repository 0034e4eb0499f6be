"""A custom resource's one answer to CloudFormation: a PUT of its status to the pre-signed ``ResponseURL`` of
the event CloudFormation sent.

A custom resource that never answers holds its stack for an hour; one that answers twice confuses it. So the
answer is sent once, by whoever comes first (the handler, or a watchdog that answers before the function's
timeout), and its PUT is tried a few times.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

from aws_lambda_powertools import Logger

ANSWER_TIMEOUT_SECONDS = 5
ANSWER_ATTEMPTS = 3

logger = Logger()


class CustomResourceAnswer:
    """CloudFormation's one answer to ``event``; ``physical_id`` names the resource when the event has no id yet."""

    def __init__(self, event: dict[str, Any], physical_id: str) -> None:
        self._event = event
        self._physical_id = physical_id
        self._lock = threading.Lock()
        self._sent = False

    def send(self, status: str, reason: str, data: dict[str, Any] | None = None) -> None:
        with self._lock:
            if self._sent:
                return
            self._sent = True
        event = self._event
        body = json.dumps(
            {
                "Status": status,
                "Reason": reason[:500] or "see the function's log",
                "PhysicalResourceId": event.get("PhysicalResourceId") or self._physical_id,
                "StackId": event["StackId"],
                "RequestId": event["RequestId"],
                "LogicalResourceId": event["LogicalResourceId"],
                "Data": data or {},
            }
        ).encode()
        # CloudFormation's pre-signed https URL, from the event CloudFormation sent.
        request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""})  # noqa: S310
        for attempt in range(ANSWER_ATTEMPTS):
            try:
                with urllib.request.urlopen(request, timeout=ANSWER_TIMEOUT_SECONDS) as response:  # noqa: S310
                    response.read()
                return
            except OSError:
                logger.exception("Answering CloudFormation failed", attempt=attempt + 1, of=ANSWER_ATTEMPTS)
