"""The dashboard page links its files by content hash, so they can be cached for good."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from alertflow.notifier.dashboard_page import fingerprinted_page

DASHBOARD = Path(__file__).resolve().parents[2] / "alertflow" / "dashboard"


def test_every_local_script_and_stylesheet_is_linked_by_its_content_hash() -> None:
    html = fingerprinted_page(DASHBOARD)
    links = re.findall(r'(?:src|href)="([^"#]+\.(?:js|css|svg))(?:\?v=([0-9a-f]+))?"', html)
    assert links, html[:300]
    for ref, digest in links:
        expected = hashlib.sha256((DASHBOARD / ref).read_bytes()).hexdigest()[:16]
        assert digest == expected, ref


def test_a_changed_file_gets_a_new_url_and_outside_links_stay(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(
        '<link href="style.css"><script src="app.js"></script><a href="#top"></a>'
        '<a href="https://example.org/x.js"></a><script src="../secret.js"></script>')
    (tmp_path / "style.css").write_text("body{}")
    (tmp_path / "app.js").write_text("1")
    first = fingerprinted_page(tmp_path)
    (tmp_path / "app.js").write_text("2")
    second = fingerprinted_page(tmp_path)
    assert first != second
    assert 'href="#top"' in second and 'href="https://example.org/x.js"' in second
    assert 'src="../secret.js"' in second  # not a file of the dashboard: untouched
