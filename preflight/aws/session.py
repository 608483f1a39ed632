"""boto3 sessions and clients for the audit, and one place that turns AWS errors into reasons.

boto3 is an optional extra: it is imported here, inside functions, so ``import preflight`` and the
analytic path never pay for it. Timeouts and retries are short and can be tightened through the
environment (``PREFLIGHT_AWS_TIMEOUT`` seconds, ``PREFLIGHT_AWS_MAX_ATTEMPTS``), so an
unreachable endpoint costs seconds, not minutes.
"""

from __future__ import annotations

import os
import re
from typing import Any

SECRET_PATTERNS = (
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(r"(?i)(secret|token|signature|credential)[=:]\s*\S+"),
)


class BotoMissing(ImportError):
    """boto3 is not installed (the ``aws`` extra)."""


def boto3_module() -> Any:
    try:
        import boto3  # type: ignore[import-untyped]
    except ImportError as exc:
        raise BotoMissing(
            "boto3 is not installed; install it with: pip install 'preflight-toolkit[aws]'"
        ) from exc
    return boto3


def client_config() -> Any:
    """botocore Config: short timeouts, few retries (the audit is a pre-check, not a job)."""
    from botocore.config import Config  # type: ignore[import-untyped]

    timeout = float(os.environ.get("PREFLIGHT_AWS_TIMEOUT", "10"))
    attempts = int(os.environ.get("PREFLIGHT_AWS_MAX_ATTEMPTS", "3"))
    return Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"mode": "standard", "total_max_attempts": max(1, attempts)},
    )


class Clients:
    """boto3 clients for one region, created on first use and shared by the audit's parts."""

    def __init__(self, session: Any, region: str) -> None:
        self.session = session
        self.region = region
        self._made: dict[tuple[str, str], Any] = {}
        self._config = client_config()

    def get(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        if key not in self._made:
            self._made[key] = self.session.client(service, region_name=key[1], config=self._config)
        return self._made[key]


def make_session(session: Any | None) -> Any:
    """The caller's session, or a default boto3 session (env, profile, instance role...)."""
    if session is not None:
        return session
    return boto3_module().Session()


def has_credentials(session: Any) -> bool:
    """Whether boto3 resolves any credentials, without calling AWS."""
    getter = getattr(session, "get_credentials", None)
    if getter is None:  # a session-like test double: let the first call tell
        return True
    try:
        return getter() is not None
    except Exception:
        return False


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a ClientError (e.g. "AccessDenied"), else None."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "AuthorizationError",
    "403",
}
NOT_AVAILABLE = {
    "NoSuchResourceException",
    "UnknownOperationException",
    "InvalidAction",
    "NotImplemented",
    "501",
}


def is_access_denied(exc: BaseException) -> bool:
    return error_code(exc) in ACCESS_DENIED


def is_global(exc: BaseException) -> bool:
    """Errors that make every other call pointless: no credentials, endpoint unreachable."""
    from botocore.exceptions import (  # type: ignore[import-untyped]
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    if isinstance(
        exc,
        NoCredentialsError
        | PartialCredentialsError
        | EndpointConnectionError
        | ConnectTimeoutError
        | NoRegionError,
    ):
        return True
    return error_code(exc) in {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
    }


def describe_error(exc: BaseException) -> str:
    """One line saying why a call failed, in words a user can act on, free of secrets."""
    from botocore.exceptions import (
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ReadTimeoutError,
    )
    from botocore.parsers import ResponseParserError  # type: ignore[import-untyped]

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        text = "no AWS credentials found (environment, ~/.aws, SSO or instance role)"
    elif isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        text = f"AWS endpoint unreachable ({exc})"
    elif isinstance(exc, ReadTimeoutError):
        text = f"AWS endpoint did not answer in time ({exc})"
    elif isinstance(exc, ResponseParserError):
        text = "the endpoint gave an answer that is not an AWS API response (API not implemented?)"
    else:
        code = error_code(exc)
        message = ""
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            message = str(response.get("Error", {}).get("Message") or "")
        if code in ACCESS_DENIED:
            text = f"access denied ({code}): {message}".rstrip(": ")
        elif code in NOT_AVAILABLE:
            text = f"API not available here ({code}): {message}".rstrip(": ")
        elif code and code.isdigit() and int(code) >= 500:
            text = f"the endpoint failed with HTTP {code} (API not implemented or AWS outage)"
        elif code:
            text = f"{code}: {message}".rstrip(": ")
        else:
            text = f"{type(exc).__name__}: {exc}"
    return scrub(text.splitlines()[0] if text else text)


def scrub(text: str) -> str:
    """Remove anything that looks like an access key or a secret from a message."""
    for pattern in SECRET_PATTERNS:
        text = pattern.sub("[hidden]", text)
    return text
