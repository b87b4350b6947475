"""Build outgoing XML as lxml elements and let libxml2 serialise it: never pasted strings.

What every document Perennial writes shares:

* The fixed declaration ``<?xml version="1.0" encoding="UTF-8"?>`` (double quotes, as in
  Ordergroove's examples; lxml's own uses single quotes), then UTF-8.
* ``clean`` drops the characters XML 1.0 cannot carry at all: C0 controls other than tab, LF
  and CR, lone surrogates (a Python str can hold them; UTF-8 cannot), U+FFFE and U+FFFF.
  Dropping, not refusing, is deliberate: a stray control character in an address must not hold
  a customer's order.
* An empty value (None or "") is a self-closing tag, ``<tag/>``, and so is an empty container.
* CDATA holding ``]]>`` is split by libxml2 over two sections (``]]]]><![CDATA[>``). A value
  holding a carriage return is written as escaped text (``&#13;``) instead of CDATA, because a
  parser turns a raw CR into LF even inside CDATA. So a parser reads back exactly the cleaned
  text, whatever it holds.

Why elements and not lxml's incremental writer for text: lxml 6.1.3's ``xmlfile.write(CDATA(s))``
reads past the end of ``s`` when it ends with a single "]" (a segmentation fault). Whole
elements written to an ``xmlfile`` go through libxml2's tree serialiser, which is sound, so
``stream`` uses that for long documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO, TypeVar

from lxml import etree

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# Everything XML 1.0 allows in text: tab, LF, CR and the three printable ranges.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

T = TypeVar("T")


def clean(text: str) -> str:
    """Return ``text`` without the characters XML 1.0 cannot carry."""
    return NOT_XML.sub("", text)


def serialise(root: etree._Element) -> bytes:
    """Return the declaration and ``root`` serialised in UTF-8."""
    return DECLARATION + etree.tostring(root, encoding="UTF-8")


@contextmanager
def stream(out: BinaryIO, root: str) -> Iterator[Callable[[etree._Element], None]]:
    """Write the declaration and a ``<root>`` to ``out``; yield a function adding children.

    Each child is serialised as soon as it is added, so memory stays flat however many.
    """
    out.write(DECLARATION)
    with etree.xmlfile(out, encoding="UTF-8") as xf, xf.element(root):
        yield xf.write


def leaf(parent: etree._Element, tag: str, value: str | int | None, *, cdata: bool = False) -> None:
    """Add ``<tag>value</tag>`` (CDATA if asked and possible), or ``<tag/>`` when empty."""
    element = etree.SubElement(parent, tag)
    text = "" if value is None else clean(str(value))
    if text:
        element.text = etree.CDATA(text) if cdata and "\r" not in text else text


def container(
    parent: etree._Element,
    tag: str,
    entries: Iterable[T],
    add: Callable[[etree._Element, T], None],
) -> None:
    """Add ``<tag>`` holding ``add(tag_element, entry)`` for each entry, ``<tag/>`` when none."""
    element = etree.SubElement(parent, tag)
    for entry in entries:
        add(element, entry)
