"""``ccm demo`` loads the bundled production and shows diff, RCA and a prediction."""

from __future__ import annotations

import os
import subprocess
import sys


def test_the_demo_shows_the_root_cause_and_a_blast_radius(tmp_path):
    env = {**os.environ, "COLUMNS": "200"}
    out = subprocess.run([sys.executable, "-m", "ccm", "demo", "--store",
                          str(tmp_path / "demo.sqlite")], capture_output=True, text=True,
                         env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.index("Changes between") < text.index("ccm rca") < text.index("ccm predict")
    assert ("change:chg-102 -> config:cartservice/REDIS_ADDR -> service:cartservice -> "
            "service:frontend") in text
    assert "Blast radius of deploy service:productcatalogservice" in text
