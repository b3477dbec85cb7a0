"""pyproject.toml, environment.yml, README and CI agree with each other."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REQUIRED = {"tensorflow", "keras", "pandas", "seaborn", "networkx", "papermill", "nbconvert", "ipykernel"}


def dist_name(req: str) -> str:
    return re.split(r"[\s<>=!~\[;]", req, maxsplit=1)[0].lower()


def test_pyproject_declares_the_stack():
    project = PYPROJECT["project"]
    assert project["name"] == "cnnkit" and project["requires-python"] == ">=3.10"
    assert REQUIRED <= {dist_name(r) for r in project["dependencies"]}
    keras_req = next(r for r in project["dependencies"] if dist_name(r) == "keras")
    assert ">=3.10" in keras_req
    extras = project["optional-dependencies"]
    assert {"pytest"} <= {dist_name(r) for r in extras["dev"]}
    assert {"jupyterlab"} <= {dist_name(r) for r in extras["jupyter"]}
    assert project["scripts"]["cnnkit"] == "cnnkit.cli:main"


def test_environment_yml_is_valid_and_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "cnnkit" and "conda-forge" in env["channels"]
    deps = env["dependencies"]
    python = [d for d in deps if isinstance(d, str) and d.startswith("python")]
    assert python and "pip" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    editable = [p for p in pip_section if p.startswith("-e .")]
    assert editable, "environment.yml must install the package itself with `-e .[...]`"
    extras = re.search(r"\[(.*)\]", editable[0]).group(1).split(",")
    assert set(extras) <= set(PYPROJECT["project"]["optional-dependencies"])
    assert {"dev", "jupyter"} <= set(extras)
    # python version in the env satisfies requires-python
    version = tuple(int(x) for x in python[0].split("=")[-1].split(".")[:2])
    assert version >= (3, 10)


def test_readme_has_two_setup_commands_that_ci_runs():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Two commands", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in ci and "make install" in ci and "make test" in ci
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo: install", makefile, re.M) and re.search(r"^test: install", makefile, re.M)


def test_no_test_imports_from_conftest():
    """Several folders have a conftest.py; ``from conftest import`` picks whichever loaded first."""
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py")
                 if re.search(r"^\s*from conftest import", p.read_text(), re.M)]
    assert offenders == [], f"import shared helpers from testutil instead: {offenders}"
