"""Package list for setuptools: pyproject.toml maps the plugin folders to corpuskit.<name>
(package-dir), but setuptools' `packages.find` cannot prefix the sub-packages it finds inside
them, so this file lists them (every folder with an __init__.py below each mapped folder)."""

from setuptools import find_packages, setup

PLUGIN_FOLDERS = ("tokenizers", "embeddings", "lm", "gpu")

packages = find_packages(include=["corpuskit", "corpuskit.*"])
for folder in PLUGIN_FOLDERS:
    packages.append(f"corpuskit.{folder}")
    packages.extend(f"corpuskit.{folder}.{sub}" for sub in find_packages(where=folder))

setup(packages=packages)
