#!/bin/sh
# The whole test run, as CI does it: install what the suite needs (tests/setup.sh), then lint,
# format and types (seconds, against the suite's minutes; all pinned in the test extras), then the
# suite under coverage. coverage starts before pytest loads the package's own plugin (pytest11),
# which imports the package, so module-level code is counted (pytest-cov would start too late);
# xdist's workers and the servers and pytest runs the tests start are measured through coverage's
# subprocess patch. fail_under is in pyproject.toml.
set -eu
cd "$(dirname "$0")/.."
sh tests/setup.sh
ruff check .
ruff format --check .
mypy
rm -f .coverage .coverage.*
python -m coverage run -m pytest -n 2
python -m coverage combine --quiet
python -m coverage report
