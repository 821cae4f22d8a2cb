"""Rewriting one benchmark's generated block in docs/benchmarks.md, leaving the rest alone."""

from __future__ import annotations

import re
from pathlib import Path


def replace_block(path: Path, *, section: str, begin: str, end: str, block: str) -> None:
    """Put `block` (which starts with `begin` and ends with `end`) in place of the old one;
    without one, under the `section` heading (added at the end of the file if missing)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    heading = re.compile(rf"^{re.escape(section)}\s*$", re.MULTILINE)
    if begin in text and end in text:
        pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
        text = pattern.sub(lambda _: block, text, count=1)
    elif heading.search(text):
        text = heading.sub(lambda _: f"{section}\n\n{block}", text, count=1)
    else:
        text = text.rstrip("\n") + f"\n\n{section}\n\n{block}\n"
    path.write_text(text, encoding="utf-8")
