"""Create the local stack's AWS resources: Terraform envs/local (the faithful way, the default) or
the quick python bootstrap (seconds, the data path only)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def provision_stack(
    settings: Any,
    how: str,
    state_dir: Path,
    say: Callable[[str], None],
    terraform_timeout: float = 900.0,
) -> None:
    from segmentation.anonymise import store_key
    from segmentation.campaign.arms import store_arm_key
    from segmentation_local import terraform
    from segmentation_local.bootstrap import provision

    if how == "terraform":
        terraform.apply_local(
            settings,
            state_dir / "terraform.tfstate",
            lifecycle=False,  # moto settles lifecycle rules for ~1 min; nothing local needs them
            msk=False,  # the local stream runs on the embedded broker, not MSK
            log=state_dir / "terraform.log",
            say=say,
            timeout=terraform_timeout,
        )
        say(f"    HMAC key: {store_key(settings)}")  # Terraform creates the secret, not the key
        say(f"    campaign arm key: {store_arm_key(settings)}")
    elif how == "python":
        provision(settings)
    else:
        raise ValueError(f"provision must be 'terraform' or 'python', not {how!r}")
