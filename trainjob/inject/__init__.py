"""Holds the sitecustomize that ``trainjob exec`` puts first on its child's PYTHONPATH (a package only
so that it ships in the wheel; nothing imports it)."""
