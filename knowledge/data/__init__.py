"""Curated data files we write ourselves (YAML, Markdown policies), each fact with its source and dates."""

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent
# libyaml parses several times faster; the pure-Python loader is the fallback where it is missing.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def read_yaml(name: str) -> Any:
    """Parse one curated YAML file from this folder, once per process."""
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_LOADER)
