"""_config.yml: execution off, one repository URL that every link derives from."""

import tomllib
import yaml

import fieldguide as fg

from .conftest import ROOT


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def test_book_shows_stored_outputs():
    assert _config()["execute"]["execute_notebooks"] == "off"


def test_colab_and_repository_links_come_from_one_url():
    config = _config()
    url = config["repository"]["url"]
    assert url.startswith("https://github.com/")
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    project = tomllib.loads((ROOT / "companion" / "pyproject.toml").read_text())["project"]
    for name, link in project["urls"].items():
        assert link.startswith(url), f"companion/pyproject.toml URL {name} does not derive from _config.yml's {url}"


def test_requirements_pin_torch_213_and_the_package_does_not():
    requirements = (ROOT / "requirements.txt").read_text().splitlines()
    assert "torch==2.13.*" in requirements
    project = tomllib.loads((ROOT / "companion" / "pyproject.toml").read_text())["project"]
    torch_req = [d for d in project["dependencies"] if d.startswith("torch")]
    assert torch_req and "==" not in torch_req[0], "the package must not pin torch (Colab brings its own)"
    assert project["requires-python"].startswith(">=")
    assert fg.__version__.count(".") == 2
