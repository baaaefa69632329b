"""The shipped OASIS CAP 1.2 schema for tests of CAP out: xmlschema's verdict and libxml2's
(the one alertflow's CAP in uses), both required."""

from __future__ import annotations

from functools import cache
from importlib import resources

import xmlschema
from defusedxml.ElementTree import fromstring

from alertflow.schemas import cap12


@cache
def _xmlschema() -> xmlschema.XMLSchema:
    with resources.as_file(resources.files("alertflow.schemas").joinpath("CAP-v1.2.xsd")) as path:
        return xmlschema.XMLSchema(str(path), allow="sandbox", base_url=str(path.parent))


def assert_valid_cap(body: bytes) -> None:
    _xmlschema().validate(body.decode())  # raises naming the element if the schema refuses it
    assert cap12().first_error(body, fromstring(body)) is None
