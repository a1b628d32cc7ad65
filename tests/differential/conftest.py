"""The integration tests' fixtures, reused: the generated gRPC stubs (`pb`)
and the secret files of their server's config."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from integration.conftest import pb, secrets_dir  # noqa: E402,F401  (found by name)
