"""Redaction for reports that are shared: AWS account ids become asterisks."""

from __future__ import annotations

import re

ACCOUNT_IN_ARN = re.compile(r"(arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:)(\d{12})(:)")
BARE_ACCOUNT = re.compile(r"(?<![\d])(\d{12})(?![\d])")


def redact_account_ids(text: str) -> str:
    """Replace 12-digit AWS account ids (in ARNs and alone) with ``************``."""
    text = ACCOUNT_IN_ARN.sub(lambda m: m.group(1) + "*" * 12 + m.group(3), text)
    return BARE_ACCOUNT.sub("*" * 12, text)
