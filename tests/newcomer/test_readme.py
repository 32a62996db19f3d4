"""The README's examples, run as written: the first DAG and the user-test example, in a pytest of their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks(heading: str) -> list[str]:
    """The ```python blocks of the README section that starts at `heading` (up to the next heading)."""
    blocks: list[str] = []
    inside, fence, current = False, None, []
    for line in README.read_text().splitlines():
        if fence is None and line.startswith("#"):
            if inside:
                break
            inside = line.strip() == heading
        elif inside and line.startswith("```"):
            if fence is None:
                fence, current = line[3:].strip(), []
            else:
                if fence == "python":
                    blocks.append("\n".join(current) + "\n")
                fence = None
        elif fence is not None:
            current.append(line)
    return blocks


def user_project(tmp_path: Path) -> Path:
    """A user's project made of the README's blocks: dags/spectrum_example.py, conftest.py, a test file."""
    (first_dag,) = python_blocks("### A first DAG (Datameer Spectrum)")
    conftest, test = python_blocks("## Test your DAGs against the sandbox")
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "spectrum_example.py").write_text(first_dag)
    (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "test_spectrum_example.py").write_text(test)
    return tmp_path


def clean_env() -> dict[str, str]:
    """The environment of a user's shell: none of this session's Airflow settings or connections."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTEST"))}


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_readme_user_test_example_passes_as_written(tmp_path):
    project = user_project(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project)],
                          cwd=project, env=clean_env(), capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert "1 passed" in proc.stdout


def test_the_first_readme_dag_has_no_ds():
    (first_dag,) = python_blocks("### A first DAG (Datameer Spectrum)")
    assert "{{ ds }}" not in first_dag and "{{ run_id }}" in first_dag
