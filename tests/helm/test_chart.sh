#!/usr/bin/env bash
# Helm chart tests (lint, render, assertions, rejected values); see test_chart.py.
# Usage: tests/helm/test_chart.sh        (HELM=/path/to/helm to override)
set -euo pipefail
exec /usr/bin/python3 "$(dirname "$0")/test_chart.py" "$@"
