"""Standards' schemas shipped with the package (see each file's NOTICE)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from xml.etree.ElementTree import Element

import xmlschema
from lxml import etree

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"


class CapSchema:
    """The OASIS CAP 1.2 schema, as two validators with one verdict.

    libxml2's validator (lxml, C) decides: a valid message costs ~20 µs instead of the ~500 µs
    xmlschema (pure Python) takes, which kept CAP ingest under half the JSON rate. xmlschema
    then explains what libxml2 refused, naming the element by its path (`/alert/info/urgency`)
    rather than libxml2's positional XPath. Neither reads anything outside the schema's folder.
    """

    def __init__(self) -> None:
        schema_file = resources.files(__package__).joinpath("CAP-v1.2.xsd")
        with resources.as_file(schema_file) as path:
            self._explainer = xmlschema.XMLSchema(str(path), allow="sandbox",
                                                  base_url=str(path.parent))
            self._fast = etree.XMLSchema(etree.parse(str(path), self._parser()))

    @staticmethod
    def _parser() -> etree.XMLParser:
        # The body was already parsed by defusedxml, which refuses any DTD; these settings make
        # sure this second parse could not expand or fetch anything even if it had one.
        return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                               huge_tree=False, remove_comments=True)

    def first_error(self, body: bytes, root: Element) -> tuple[str, str] | None:
        """(element path, reason) of the first violation, or None for a valid message."""
        try:
            document = etree.fromstring(body, self._parser())
        except etree.XMLSyntaxError as exc:  # what expat took and libxml2 does not
            return "/alert", f"malformed XML: {exc}"
        if self._fast.validate(document):
            return None
        error = next(iter(self._explainer.iter_errors(root)), None)
        if error is not None:
            return error.path or "/alert", error.reason or "invalid CAP 1.2"
        entry = self._fast.error_log.last_error
        return "/alert", entry.message if entry is not None else "invalid CAP 1.2"


@cache
def cap12() -> CapSchema:
    """The CAP 1.2 schema, loaded once per process."""
    return CapSchema()
