"""The context object the Lambda runtime passes to a handler, for local invocations.

Locally a handler is called in-process (by the Kafka poller, `segmentation batch-ingest`, the
local state machine runner, tests), and Powertools reads the function name, request id and memory
from the context it is given.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class LocalContext:
    function_name: str
    memory_limit_in_mb: int = 1024
    timeout_seconds: float = 900.0
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))
