"""The user guide and the README's picture stay true to the viewer (issue 14 item 12).

The README links the guide in its first lines and says what the viewer is not for; every
picture the guide shows exists; the README's screenshot is what ``dicom-viewer screenshot``
draws of the demo today (``docs/make_screenshots.py`` regenerates it when it is not).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "user-guide.md"
SECTIONS = ("Opening images", "The study tree", "Phases", "Keys and mouse", "Layouts", "MPR",
            "The tag browser", "Problems", "Preferences")  # fmt: skip


def test_readme_links_the_guide_and_says_what_it_is_not_for() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:15]
    head = " ".join(" ".join(lines).split())
    assert "(docs/user-guide.md)" in head
    assert "Not a medical device" in head and "not for primary" in head


def test_the_guide_covers_each_part_and_its_pictures_exist() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    prose = " ".join(text.replace("**", "").split())
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    for section in SECTIONS:
        assert any(heading.startswith(section) for heading in headings), section
    assert "not a medical device" in prose and "not for primary diagnosis" in prose
    for needle in ("DICOMDIR", "zip", "drop files", "Ctrl+F", "Ctrl+Down", "Drop a series here"):
        assert needle in prose, needle
    pictures = re.findall(r"\]\((guide/[^)]+\.png)\)", text)
    assert len(pictures) >= 7
    for picture in pictures:
        with Image.open(GUIDE.parent / picture) as image:
            assert image.size[0] >= 500, picture


def test_readme_screenshot_is_what_screenshot_draws_today(tmp_path: Path) -> None:
    out = tmp_path / "now.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for name in ("CONFIG", "CACHE", "DATA", "STATE"):  # no user's settings in the picture
        env[f"XDG_{name}_HOME"] = str(tmp_path / name.lower())
    command = [sys.executable, "-m", "viewer", "screenshot", str(out), "--size", "1400x900"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=180)
    assert result.returncode == 0, result.stderr
    now = np.asarray(Image.open(out).convert("RGB"), dtype=np.int16)
    kept = np.asarray(Image.open(ROOT / "docs" / "screenshot.png").convert("RGB"), dtype=np.int16)
    assert now.shape == kept.shape
    differ = np.abs(now - kept).max(axis=2) > 24
    # Speckle and the cine's moment may differ by a few pixels; a changed layout does not.
    assert differ.mean() < 0.01, (
        f"{differ.mean():.1%} of docs/screenshot.png differs from what screenshot draws now: "
        "run .venv/bin/python docs/make_screenshots.py"
    )
