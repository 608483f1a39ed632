"""trainjob."""
