"""The allocator tuning ember applies at import (glibc only), and its opt-outs."""
import os
import subprocess
import sys

import pytest

glibc = sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None

CODE = "import ember._malloc as m; print(m.TUNED)"


def _tuned(**env):
    full = {k: v for k, v in os.environ.items()
            if k not in ("EMBER_MALLOC_TUNING", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")}
    full.update(env)
    out = subprocess.run([sys.executable, "-c", CODE], env=full, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not glibc, reason="the tuning applies to glibc's allocator only")
def test_glibc_is_tuned_unless_told_not_to():
    assert _tuned() == "True"
    assert _tuned(EMBER_MALLOC_TUNING="0") == "False"
    assert _tuned(MALLOC_MMAP_THRESHOLD_="65536") == "False"  # the user's own setting wins

