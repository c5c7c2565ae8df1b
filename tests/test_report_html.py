"""A run's HTML page, opened in headless Chromium: it loads without console errors and shows its plots.

Chromium is a judge we did not write: the page must be what a browser renders, not what our code
believes it wrote. The screenshot must show the plots (many non-white pixels, and colour), not a
blank page.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from hyperplane.scenario import Scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "examples" / "scenarios"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium)")


def _render(page: Path, shot: Path) -> str:
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr",
         "--v=0", "--window-size=1280,2400", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


@pytest.mark.parametrize(("name", "values"), [
    ("nat_port_exhaustion", {"connections": "5k", "clients": 5000, "per_destination": 2000}),
    ("c3_vs_c5", {"packets": "120k", "duration": "200ms"}),
])
def test_page_loads_cleanly_and_shows_the_plots(name: str, values: dict[str, object], tmp_path: Path) -> None:
    run = Scenario.load(SCENARIOS / f"{name}.toml").with_values(values).run()
    page = run.to_html(tmp_path / "report.html")
    text = page.read_text()
    assert text.count("<img ") >= 3 and "<script" not in text and "http" not in text.split("<body>")[1]
    assert run.data["scenario"]["name"] in text and f"{run.data['packets']:,}" in text
    log = _render(page, tmp_path / "shot.png")
    errors = [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not errors, errors
    image = imread(tmp_path / "shot.png")[..., :3]
    ink = np.any(image < 0.9, axis=-1).mean()
    colour = (image.max(axis=-1) - image.min(axis=-1) > 0.2).mean()
    assert ink > 0.05, f"the page is nearly blank ({ink:.1%} ink)"
    assert colour > 0.01, f"no plot colours on the page ({colour:.1%})"
