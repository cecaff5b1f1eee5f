"""The project's top-level packages resolve inside this repo (never to a same-named PyPI module)."""

import importlib
import subprocess
import sys
import time
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


def test_cli_help_is_fast_and_imports_no_heavy_library() -> None:
    """`fovea --help` must answer quickly: heavy libraries are imported lazily inside commands."""
    heavy = ["torch", "sentence_transformers", "chromadb", "langchain_core", "langgraph", "transformers"]
    code = (
        "import sys, time; t=time.perf_counter(); import api.cli; "
        "print(time.perf_counter()-t); print(','.join(m for m in sys.argv[1:] if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code, *heavy], capture_output=True, text=True, check=True)
    import_seconds, loaded = result.stdout.splitlines()[0], result.stdout.splitlines()[1:]
    assert loaded in ([], [""]), f"heavy modules imported at CLI start-up: {loaded}"
    assert float(import_seconds) < 1.0

    started = time.perf_counter()
    help_run = subprocess.run(
        [str(Path(sys.executable).parent / "fovea"), "--help"], capture_output=True, text=True
    )
    assert help_run.returncode == 0
    assert "sandbox" in help_run.stdout
    assert time.perf_counter() - started < 1.5
