"""Lambda's Invoke port (the lake CLI's redrive and backfill), running a real handler in-process."""

from __future__ import annotations

import io
import json
from typing import Any


class FakeLambda:
    """Lambda's synchronous Invoke, running the real handler: a raised error is a FunctionError answer."""

    def __init__(self, handler: Any, context: Any, function_name: str) -> None:
        self.handler, self.context, self.function_name, self.calls = handler, context, function_name, 0

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:
        assert (FunctionName, InvocationType) == (self.function_name, "RequestResponse")
        self.calls += 1
        try:
            result = self.handler.lambda_handler(json.loads(Payload), self.context)
        except Exception as error:  # noqa: BLE001 - what Lambda does with an unhandled error
            body = {"errorMessage": str(error), "errorType": type(error).__name__}
            return {"FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(body).encode())}
        return {"Payload": io.BytesIO(json.dumps(result).encode())}
