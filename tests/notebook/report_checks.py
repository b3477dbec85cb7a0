"""Checks of an exported report as a reader sees it, shared by the toy-notebook and smoke-run tests."""

from __future__ import annotations

import base64
import io
import re
import stat
from pathlib import Path

from PIL import Image

# TensorFlow/absl/CUDA start-up lines and the kernel's own warning: none may reach a report or the CLI output
NOISE = re.compile(r"oneDNN custom operations|Could not find cuda drivers|cuInit|absl::InitializeLog|"
                   r"cpu_feature_guard|TF_ENABLE_ONEDNN_OPTS|running over TCP without encryption|"
                   r"^[IWE]\d{4} [\d:.]+\s+\d+ \S+:\d+\]", re.M)
EPOCH_LINE = re.compile(r"epoch\s+\d+/\d+\s+step")
_EMBEDDED = re.compile(r"""src=["']data:image/png;base64,([A-Za-z0-9+/=\s]+)["']""")


def embedded_pngs(html: str) -> list[bytes]:
    """The PNG images embedded in ``<img src="data:image/png;base64,...">`` of a page, decoded."""
    return [base64.b64decode(b64) for b64 in _EMBEDDED.findall(html)]


def assert_figures_embedded(out: Path, html_path: Path, min_size=(200, 120)) -> list[Path]:
    """Every PNG the notebook saved in ``out`` is embedded in the report, byte for byte, and decodes to
    an image of at least ``min_size`` pixels. Returns the PNGs."""
    pngs = sorted(out.glob("*.png"))
    embedded = embedded_pngs(html_path.read_text(encoding="utf-8"))
    for png in pngs:
        data = png.read_bytes()
        assert data in embedded, f"{png.name} was saved but is not shown in {html_path.name}"
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert image.size[0] >= min_size[0] and image.size[1] >= min_size[1], f"{png.name}: {image.size}"
    return pngs


def assert_world_readable(out: Path, suffixes=(".html", ".png", ".svg", ".json", ".ipynb")) -> None:
    """Under umask 022 every file of these kinds in ``out`` (recursively) is readable by everyone."""
    private = [str(p.relative_to(out)) for p in out.rglob("*")
               if p.is_file() and p.suffix in suffixes and not p.stat().st_mode & stat.S_IROTH]
    assert not private, f"not world-readable: {private}"
