"""Package list for setuptools, computed so that a new module or folder can never be left out.

The core ships as ``kraken_proto`` and ``kraken_proto.*``; the I/O side lives in the
top-level ``adapters/`` folder (the design card's layout) and installs as
``kraken_proto.adapters``. Everything else (metadata, dependencies) is in pyproject.toml.
"""

from setuptools import find_packages, setup

CORE = find_packages(include=["kraken_proto", "kraken_proto.*"])
ADAPTERS = ["kraken_proto." + name for name in find_packages(include=["adapters", "adapters.*"])]

setup(packages=CORE + ADAPTERS, package_dir={"kraken_proto.adapters": "adapters"})
