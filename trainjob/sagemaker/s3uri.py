"""``s3://bucket/prefix`` parsing and joining, kept apart so every module splits URIs one way."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class S3Uri:
    """A bucket and a key prefix (no leading slash; a trailing slash is kept as given)."""

    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str) -> S3Uri:
        if not uri.startswith("s3://"):
            raise ValueError(f"{uri!r} is not an s3:// URI")
        bucket, _, key = uri[len("s3://") :].partition("/")
        if not bucket:
            raise ValueError(f"{uri!r} has no bucket")
        return cls(bucket, key)

    def join(self, *parts: str) -> S3Uri:
        """Append path parts with exactly one slash between them."""
        pieces = [self.key.strip("/")] + [p.strip("/") for p in parts]
        return S3Uri(self.bucket, "/".join(p for p in pieces if p))

    @property
    def prefix(self) -> str:
        """The key as a folder prefix: ``a/b/`` (empty for the bucket root)."""
        key = self.key.strip("/")
        return f"{key}/" if key else ""

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}" if self.key else f"s3://{self.bucket}"


def is_s3(uri: str | None) -> bool:
    return bool(uri) and str(uri).startswith("s3://")
