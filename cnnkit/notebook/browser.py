"""Look at reports as a reader does: headless Chromium loads a page, says which images it could
draw, and takes screenshots for the documentation.

``python -m cnnkit.notebook.browser REPORTS_DIR docs/img [STEM ...]`` (``make screenshots``)
writes ``index.png`` and one ``<stem>.png`` per report named (default: every report).
Chromium is found as ``$CNNKIT_CHROMIUM`` or ``chromium``/``chromium-browser``/``google-chrome``
on the PATH (Debian/Ubuntu: ``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["find_chromium", "loaded_images", "screenshot"]

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--no-first-run", "--hide-scrollbars", "--mute-audio")
_PROBE = """<script>window.addEventListener('load', () => {
  const seen = [...document.images].map(i => ({src: i.getAttribute('src').slice(0, 80), width: i.naturalWidth,
                                              height: i.naturalHeight}));
  const out = document.createElement('pre'); out.id = 'cnnkit-images'; out.textContent = JSON.stringify(seen);
  document.body.appendChild(out);
});</script>"""


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or ``None``."""
    named = os.environ.get("CNNKIT_CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    return next((found for name in _NAMES if (found := shutil.which(name))), None)


def _chromium(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("no Chromium found: install it (apt-get install chromium) or set CNNKIT_CHROMIUM")
    with tempfile.TemporaryDirectory(prefix="cnnkit-chromium-") as profile:
        return subprocess.run([exe, *_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=timeout, check=False)


def loaded_images(page: str | os.PathLike, timeout: float = 120) -> list[dict]:
    """Load ``page`` in headless Chromium; for every ``<img>``: its ``src`` (first 80 characters) and
    natural ``width``/``height`` in pixels (0 when the browser could not load or decode it).

    The page is copied, with a small script that writes those numbers into the DOM, to a hidden file
    beside it (so relative image paths resolve), read back with ``--dump-dom`` and removed.
    """
    page = Path(page).resolve()
    text = page.read_text(encoding="utf-8")
    probe = text.replace("</body>", _PROBE + "</body>") if "</body>" in text else text + _PROBE
    fd, name = tempfile.mkstemp(dir=page.parent, prefix=f".{page.stem}.check.", suffix=".html")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(probe)
        done = _chromium(["--virtual-time-budget=15000", "--dump-dom", Path(name).as_uri()], timeout)
    finally:
        os.unlink(name)
    found = re.search(r'<pre id="cnnkit-images">(.*?)</pre>', done.stdout, re.S)
    if not found:
        raise RuntimeError(f"Chromium did not report the images of {page} (exit {done.returncode}): "
                           f"{done.stderr.strip()[-500:]}")
    import html

    return json.loads(html.unescape(found.group(1)))


def screenshot(page: str | os.PathLike, png: str | os.PathLike, *, width: int = 1280, height: int = 1600,
               timeout: float = 120) -> Path:
    """Write a ``width`` × ``height`` screenshot of the top of ``page`` to ``png``."""
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    done = _chromium([f"--window-size={width},{height}", "--virtual-time-budget=15000", f"--screenshot={png}",
                      Path(page).resolve().as_uri()], timeout)
    if not png.is_file():
        raise RuntimeError(f"Chromium wrote no screenshot of {page} (exit {done.returncode}): "
                           f"{done.stderr.strip()[-500:]}")
    return png


def screenshots(reports: str | os.PathLike, out: str | os.PathLike, stems: list[str] | None = None) -> list[Path]:
    """``index.png`` and ``<stem>.png`` per report of ``reports`` (default every ``<NN>_*.html``) into ``out``."""
    reports, out = Path(reports), Path(out)
    if not (reports / "index.html").is_file():
        raise FileNotFoundError(f"no {reports}/index.html; run `cnnkit run ... --out {reports}` (or "
                                f"`cnnkit report {reports}`) first")
    stems = stems or sorted(p.stem for p in reports.glob("[0-9][0-9]_*.html"))
    missing = [s for s in stems if not (reports / f"{s}.html").is_file()]
    if missing:
        raise FileNotFoundError(f"no report {missing} in {reports}")
    written = [screenshot(reports / "index.html", out / "index.png", height=1800)]
    written += [screenshot(reports / f"{s}.html", out / f"{s}.png", height=2000) for s in stems]
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnnkit.notebook.browser", description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", help="folder with index.html and the reports")
    parser.add_argument("out", help="folder for the PNG screenshots, e.g. docs/img")
    parser.add_argument("stems", nargs="*", help="reports to take (default: all)")
    args = parser.parse_args(argv)
    try:
        for path in screenshots(args.reports, args.out, args.stems):
            print(path)
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"screenshots: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
