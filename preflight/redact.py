"""Redaction for what is printed or shared: AWS account ids become asterisks, credentials <hidden>."""

from __future__ import annotations

import re

ACCOUNT_IN_ARN = re.compile(r"(arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:)(\d{12})(:)")
BARE_ACCOUNT = re.compile(r"(?<![\d])(\d{12})(?![\d])")


def redact_account_ids(text: str) -> str:
    """Replace 12-digit AWS account ids (in ARNs and alone) with ``************``."""
    text = ACCOUNT_IN_ARN.sub(lambda m: m.group(1) + "*" * 12 + m.group(3), text)
    return BARE_ACCOUNT.sub("*" * 12, text)


# --- Credentials ------------------------------------------------------------------------------
# A value is never echoed when its key names a credential, or when it has the shape of one.
# Shapes: Hugging Face user access tokens start with ``hf_`` (huggingface.co/docs/hub/security-tokens);
# AWS access key ids are 20 characters starting AKIA (long-term) or ASIA (temporary) (IAM user
# guide, "Understanding unique ID prefixes"); secret access keys are 40 base64 characters.
SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|api[_-]?key|access[_-]?key|private[_-]?key|credential)",
    re.IGNORECASE,
)
SECRET_VALUE = re.compile(
    r"(hf_[A-Za-z0-9]{20,}|(?:AKIA|ASIA)[A-Z0-9]{16}|ghp_[A-Za-z0-9]{30,}|sk-[A-Za-z0-9_-]{20,})"
)
_NOT_SECRET_KEYS = re.compile(
    r"(max_tokens|_tokens$|tokens_|token_id|pad_token|eos_token|bos_token|unk_token|"
    r"sep_token|cls_token|mask_token|tokenizer|num_tokens|avg_tokens|token_type|hub_token_path)",
    re.IGNORECASE,
)
HIDDEN = "<hidden>"


def is_secret_key(key: str) -> bool:
    """Whether a field or variable named ``key`` holds a credential (``hub_token``, ``HF_TOKEN``,
    ``AWS_SECRET_ACCESS_KEY``), not a count or a tokenizer setting (``avg_tokens``, ``pad_token``)."""
    last = key.rsplit(".", 1)[-1]
    return bool(SECRET_KEY.search(last)) and not _NOT_SECRET_KEYS.search(last)


def looks_like_secret(value: object) -> bool:
    """Whether ``value`` (or anything inside it) has the shape of a token or an access key."""
    if isinstance(value, str):
        return bool(SECRET_VALUE.search(value))
    if isinstance(value, dict):
        return any(looks_like_secret(k) or looks_like_secret(v) for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return any(looks_like_secret(v) for v in value)
    return False


def kind_of(value: object) -> str:
    """What a value is, without its content: ``a list``, ``text``, ``a number``."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return {list: "a list", dict: "a mapping", str: "text", tuple: "a list"}.get(
        type(value), type(value).__name__
    )


def shown_value(key: str, value: object) -> str:
    """``repr(value)`` for messages, or only its kind when it holds (or may hold) a credential."""
    if is_secret_key(key) or looks_like_secret(value):
        return f"{kind_of(value)} ({HIDDEN}: it holds a credential)"
    return repr(value)


def redact_secrets(text: str) -> str:
    """``text`` with every token or access-key shape replaced by ``<hidden>``."""
    return SECRET_VALUE.sub(HIDDEN, text)


def redact_data(data: object, key: str = "") -> object:
    """A copy of JSON-like ``data`` for printing: values under credential keys become
    ``<hidden>``, and token shapes inside any text are hidden too."""
    if isinstance(data, dict):
        return {k: redact_data(v, str(k)) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redact_data(v, key) for v in data]
    if key and is_secret_key(key) and data not in (None, ""):
        return HIDDEN
    if isinstance(data, str):
        return redact_secrets(data)
    return data
