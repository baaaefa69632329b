"""Standards' schemas shipped with the package (see each file's NOTICE)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import xmlschema


@cache
def cap12() -> xmlschema.XMLSchema:
    """The OASIS CAP 1.2 schema, loaded once; it may read nothing outside its own folder."""
    with resources.as_file(resources.files(__package__).joinpath("CAP-v1.2.xsd")) as path:
        return xmlschema.XMLSchema(str(path), allow="sandbox", base_url=str(path.parent))
