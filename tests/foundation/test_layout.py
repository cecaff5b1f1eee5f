"""The project's top-level packages resolve inside this repo (never to a same-named PyPI module)."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ["billing", "knowledge", "tools", "agents", "graphs", "api", "sandbox", "evals"]


@pytest.mark.parametrize("name", PACKAGES)
def test_package_resolves_inside_repo(name: str) -> None:
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve().is_relative_to(REPO / name)


def test_packages_resolve_inside_repo_from_another_directory(tmp_path: Path) -> None:
    """The editable install, not the current directory, is what makes them importable."""
    code = (
        "import importlib,sys; print('\\n'.join(importlib.import_module(n).__file__ for n in sys.argv[1:]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *PACKAGES], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(out) == len(PACKAGES)
    for name, path in zip(PACKAGES, out, strict=True):
        assert Path(path).resolve().is_relative_to(REPO / name), path


def test_cli_start_up_imports_no_heavy_library() -> None:
    """`fovea --help` stays fast because heavy libraries are imported inside commands, never at start-up.

    (The time itself is measured by ../shared/tools/check-cli-contracts, not asserted here.)
    """
    heavy = [
        "torch",
        "sentence_transformers",
        "chromadb",
        "langchain_core",
        "langgraph",
        "transformers",
        "spacy",
    ]
    code = "import sys; import api.cli; print(','.join(m for m in sys.argv[1:] if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code, *heavy], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"heavy modules imported at CLI start-up: {result.stdout.strip()}"

    help_run = subprocess.run(
        [str(Path(sys.executable).parent / "fovea"), "--help"], capture_output=True, text=True
    )
    assert help_run.returncode == 0
    for command in ("sandbox", "check", "ingest", "run"):
        assert command in help_run.stdout
