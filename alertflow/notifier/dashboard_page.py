"""The dashboard's page, with every local file it links fingerprinted (`?v=<content hash>`).

Browsers may then keep those files for a year (`security_headers` marks fingerprinted assets
immutable) and still get a new version the moment it ships: the page itself is `no-cache`, and a
changed file gets a new hash, hence a new URL. Modules imported by other modules are not
fingerprinted (the imports are plain relative URLs): they are revalidated (ETag, 304).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

_LINK = re.compile(r'(?P<attr>\b(?:src|href))="(?P<ref>[^"?#:]+)"')


def fingerprinted_page(directory: Path) -> str:
    """index.html with `?v=` added to each link to a file of `directory`."""
    html = (directory / "index.html").read_text(encoding="utf-8")

    def add_hash(match: re.Match[str]) -> str:
        ref = match["ref"]
        target = (directory / ref.lstrip("/")).resolve()
        if not target.is_file() or directory.resolve() not in target.parents:
            return match[0]
        digest = hashlib.sha256(target.read_bytes()).hexdigest()[:16]
        return f'{match["attr"]}="{ref}?v={digest}"'

    return _LINK.sub(add_hash, html)


def page_routes(directory: Path) -> list[Route]:
    """`/` and `/index.html`, before the static files are mounted at `/`."""
    html = fingerprinted_page(directory)  # once: the package's files do not change at run time

    async def page(_request: Request) -> Response:
        return HTMLResponse(html, headers={"Cache-Control": "no-cache"})

    return [Route("/", page, methods=["GET", "HEAD"]),
            Route("/index.html", page, methods=["GET", "HEAD"])]
