#!/bin/sh
# Installs what the test suite needs: the package with its test extras, the JavaScript packages
# (the admin and frontend SDKs, sharp), and Debian's Chromium for the browser tests when missing.
set -eu
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
python -m pip install --quiet -e '.[test]'
npm ci --prefix tests/js
