"""threat-table row 7, timing attacks on the MAC or the shared secret.

Wall-clock timing tests flake on a busy machine, so this one counts machine
instructions with callgrind, which is exact and repeatable: verifying a guess
whose first N bytes are right must cost the same number of instructions for
every N. The same method applied to a naive `==` comparison must find a
difference, which proves that the test can fail."""
import re
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = Path(sys.argv[1])
PREFIXES = [0, 1, 8, 16, 31]
# What is counted: every MAC or secret comparison of the verifiers goes
# through ConstantTimeEquals (the rest of Verify allocates and reads the clock,
# which moves the count by a few hundred instructions from run to run); the
# naive control counts its whole `==`.
TOGGLE = {"hmac": "*ConstantTimeEquals*", "shared_secret": "*ConstantTimeEquals*",
          "naive": "*ProbeVerify*"}


def instructions(mode: str, prefix: int) -> int:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no",
                        f"--toggle-collect={TOGGLE[mode]}", f"--callgrind-out-file={out}",
                        str(PROBE), mode, str(prefix)], check=True, capture_output=True)
        return int(re.search(r"^summary: (\d+)", out.read_text(), re.M).group(1))


failures = 0
for mode, must_be_constant in (("hmac", True), ("shared_secret", True), ("naive", False)):
    counts = {p: instructions(mode, p) for p in PREFIXES}
    constant = len(set(counts.values())) == 1
    # A count of 0 would mean the comparison no longer goes through
    # ConstantTimeEquals: that fails too.
    ok = constant == must_be_constant and min(counts.values()) > 0
    failures += not ok
    print(f"{mode:14s} instructions by right-prefix length {counts}: "
          f"{'constant' if constant else 'VARIES'} -> {'ok' if ok else 'FAIL'}")
print(f"{3 - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
