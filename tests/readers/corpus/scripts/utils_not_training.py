"""Helpers with nothing to check: a directory walk skips this file."""


def count_tokens(text: str) -> int:
    return len(text.split())
