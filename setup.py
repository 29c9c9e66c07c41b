"""Package list: every ``ecr_mock`` subpackage found on disk, plus the pytest plugin."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["ecr_mock", "ecr_mock.*"]), "ecr_mock_pytest_plugin"])
