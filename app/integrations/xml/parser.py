"""The one hardened lxml configuration for every XML document that comes from outside.

Style rule 9: nothing else builds an lxml parser. The options switch off entity expansion, DTD
loading, network access and huge trees; a resolver refuses any external load in case an option
is ever loosened; and a document is refused outright (DocumentError) when it declares a DOCTYPE,
contains an entity reference or declares the XInclude namespace. Comments and processing
instructions are dropped while parsing, so readers only ever meet elements and text.

``iter_records`` streams ``<root><record/>...</root>`` files (product feeds, batch responses)
in flat memory; ``FirstSeen`` remembers record keys across such a file compactly;
``fromstring`` parses small documents whole (order replies).
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Container, Iterator
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, BinaryIO

from lxml import etree

XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
PROLOG_BYTES = 1024 * 1024  # the root element must start within this many bytes
DOCTYPE_REASON = "The file declares a DOCTYPE (a DTD or entity declarations), which is not allowed."
ENTITY_REASON = "The file uses an entity reference such as &name;, which is not allowed."
XINCLUDE_REASON = "The file uses XInclude, which is not allowed."
OPTIONS: MappingProxyType[str, bool] = MappingProxyType(
    {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "attribute_defaults": False,
        "huge_tree": False,
        "collect_ids": False,
        "remove_comments": True,
        "remove_pis": True,
    }
)


class DocumentError(Exception):
    """The whole document is refused; ``reason`` is a sentence for the merchant."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason if line is None else f"{reason} (line {line})")
        self.reason, self.line = reason, line


class UnsafeXMLError(DocumentError):
    """The document uses a feature refused on sight (DOCTYPE, entities, XInclude)."""


class RecordError(Exception):
    """One record breaks a rule; the rest of the document goes on."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


class _RefuseResolver(etree.Resolver):
    """Refuse every external DTD or entity load."""

    def resolve(self, system_url: str, public_id: str, context: Any) -> None:
        """Never load anything from outside the document."""
        raise UnsafeXMLError(f"The file refers to an outside resource ({system_url}).")


def make_parser() -> etree.XMLParser:
    """Return a fresh hardened parser for whole-document parsing."""
    parser = etree.XMLParser(**OPTIONS)
    parser.resolvers.add(_RefuseResolver())
    return parser


def fromstring(data: bytes) -> etree._Element:
    """Parse a whole small document, refusing it if unsafe.

    :raises etree.XMLSyntaxError: the document is not well-formed.
    :raises UnsafeXMLError: the document uses a refused feature.
    """
    root = etree.fromstring(data, make_parser())
    _check_safe(root)
    if next(root.iter(etree.Entity), None) is not None:
        raise UnsafeXMLError(ENTITY_REASON)
    if next(root.iter(f"{{{XINCLUDE_NS}}}*"), None) is not None:
        raise UnsafeXMLError(XINCLUDE_REASON)
    return root


def iter_records(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    root: str,
    record: str,
    max_bytes: int | None = None,
) -> Iterator[etree._Element]:
    """Stream each ``record`` child of a ``root`` document in flat memory.

    Each record is emptied as soon as the caller asks for the next one: read it before then.

    :param source: a path, or a stream opened in binary mode (never XML text).
    :raises DocumentError: possibly after records were yielded.
    """
    with _open(source, max_bytes) as reader:
        events = etree.iterparse(
            reader, events=("start", "end", "start-ns"), tag=(root, record), **OPTIONS
        )
        events.resolvers.add(_RefuseResolver())
        reader.unstarted = f"The file does not start with a <{root}> element."
        top: etree._Element | None = None
        try:
            for event, item in events:
                if event == "start-ns":
                    if item[1] == XINCLUDE_NS:
                        raise UnsafeXMLError(XINCLUDE_REASON)
                elif top is None:
                    top, reader.unstarted = _check_root(item, root), None
                elif event == "end" and item.getparent() is top:
                    yield item
                    item.clear()
                    while item.getprevious() is not None:
                        del top[0]
        except etree.XMLSyntaxError as error:
            raise _syntax_error(error, events.error_log, reader) from None
        if top is None:
            _check_root(events.root, root)


class _Reader:
    """Count the bytes lxml reads so that streams are held to ``max_bytes`` too."""

    def __init__(self, stream: BinaryIO, max_bytes: int | None) -> None:
        self._stream, self._max = stream, max_bytes
        self.size, self.blank = 0, True
        self.unstarted: str | None = None  # refusal if the root has not begun by PROLOG_BYTES

    def read(self, size: int = -1) -> bytes:
        """Read a chunk for lxml, refusing the file once it passes the size limit."""
        chunk = self._stream.read(size)
        if not isinstance(chunk, bytes):
            raise TypeError("XML sources must be opened in binary mode")
        self.size += len(chunk)
        if self._max is not None and self.size > self._max:
            raise DocumentError(_too_big(self._max))
        if self.blank and chunk.strip():
            self.blank = False
        if self.unstarted and self.size > PROLOG_BYTES:
            # A foreign root never yields an event; refuse it before lxml builds its whole tree.
            raise DocumentError(self.unstarted)
        return chunk


@contextmanager
def _open(source: str | os.PathLike[str] | BinaryIO, max_bytes: int | None) -> Iterator[_Reader]:
    """Open a path (checking its size first) or wrap a caller's stream."""
    if not isinstance(source, str | os.PathLike):
        yield _Reader(source, max_bytes)
        return
    if max_bytes is not None and os.stat(source).st_size > max_bytes:
        raise DocumentError(_too_big(max_bytes))
    with open(source, "rb") as handle:
        yield _Reader(handle, max_bytes)


def _too_big(max_bytes: int) -> str:
    """Say that the file passed the size limit."""
    return f"The file is larger than the limit of {max_bytes:,} bytes."


def _check_safe(element: etree._Element) -> None:
    """Refuse the document holding ``element`` if it declares a DOCTYPE."""
    info = element.getroottree().docinfo
    if (
        info.doctype
        or info.internalDTD is not None
        or info.externalDTD is not None
        or info.system_url
        or info.public_id
    ):
        raise UnsafeXMLError(DOCTYPE_REASON)


def _check_root(element: etree._Element, name: str) -> etree._Element:
    """Refuse an unsafe document or one whose root is not ``name``; return the root."""
    _check_safe(element)
    top = element.getroottree().getroot()
    if top.tag != name:
        reason = f"The root element must be <{name}> (without a namespace), not <{top.tag}>."
        raise DocumentError(reason, top.sourceline)
    return top


def _syntax_error(
    error: etree.XMLSyntaxError, log: etree._ListErrorLog, reader: _Reader
) -> DocumentError:
    """Turn libxml2's first real error into a DocumentError a merchant can act on."""
    if reader.blank:
        return DocumentError("The file is empty.")
    entry = next((e for e in log if e.level >= etree.ErrorLevels.ERROR), None)
    if entry is None:
        message, line = str(error.msg), error.lineno or None
    else:
        message, line = f"{entry.message.strip()} (column {entry.column})", entry.line or None
    if "EntityRef" in message:
        message += "; write & as &amp; or put the text in CDATA"
    return DocumentError(f"The file is not well-formed XML: {message}.", line)


def select(element: etree._Element, tag: str) -> list[etree._Element]:
    """Return the children named ``tag``, refusing the whole document on an entity reference."""
    found = []
    for child in element:
        if child.tag == tag:
            found.append(child)
        elif child.tag is etree.Entity:
            raise UnsafeXMLError(ENTITY_REASON, element.sourceline)
    return found


def fields(
    element: etree._Element, leaves: Container[str], nested: Container[str] = ()
) -> tuple[dict[str, str], dict[str, etree._Element]]:
    """Read a record's known children: stripped text of ``leaves``, elements of ``nested``.

    Unknown tags are ignored; a known tag given twice is a RecordError.
    """
    texts: dict[str, str] = {}
    elements: dict[str, etree._Element] = {}
    for child in element:
        tag = child.tag
        if tag in leaves:
            if tag in texts:
                raise _repeated(tag, child.sourceline)
            texts[tag] = text(child, tag) if len(child) else (child.text or "").strip()
        elif tag in nested:
            if tag in elements:
                raise _repeated(tag, child.sourceline)
            elements[tag] = child
        elif tag is etree.Entity:
            raise UnsafeXMLError(ENTITY_REASON, element.sourceline)
    return texts, elements


def _repeated(tag: str, line: int) -> RecordError:
    """Refuse a record that gives the same element twice."""
    return RecordError(tag, f"<{tag}> is given twice (again at line {line}); keep only one.")


def text(element: etree._Element, field: str) -> str:
    """Return an element's text (plain or CDATA) stripped, refusing nested elements."""
    if len(element):
        if any(child.tag is etree.Entity for child in element):
            raise UnsafeXMLError(ENTITY_REASON, element.sourceline)
        raise RecordError(field, f"<{element.tag}> must contain only text, not other elements.")
    value = element.text
    return value.strip() if value else ""


class FirstSeen:
    """Remember the line each record key first appeared on, in flat arrays.

    Refusing a repeated key means remembering every key of the file: the one thing that grows
    with it. Here a key costs about 40 bytes plus its length; a ``dict[str, int]`` takes ~130.
    """

    def __init__(self) -> None:
        self._slots = array("i", [-1]) * 1024  # open addressing: an entry number, or -1 if free
        self._hashes = array("q")
        self._lines = array("Q")  # 0 stands for an unknown line (None)
        self._ends = array("Q", [0])  # entry i's key is _keys[_ends[i]:_ends[i + 1]]
        self._keys = bytearray()

    def __len__(self) -> int:
        return len(self._lines)

    def add(self, key: str, line: int | None) -> bool:
        """Remember that ``key`` first appeared on ``line``; False if it was already known."""
        data, digest = key.encode(), hash(key)
        slot, entry = self._find(data, digest)
        if entry >= 0:
            return False
        self._slots[slot] = len(self._lines)
        self._hashes.append(digest)
        self._lines.append(line or 0)
        self._keys += data
        self._ends.append(len(self._keys))
        if 2 * len(self._lines) > len(self._slots):
            self._grow()
        return True

    def line(self, key: str) -> int | None:
        """Return the line a known ``key`` first appeared on (None if unknown or not known)."""
        _, entry = self._find(key.encode(), hash(key))
        return (self._lines[entry] or None) if entry >= 0 else None

    def _key(self, entry: int) -> bytearray:
        return self._keys[self._ends[entry] : self._ends[entry + 1]]

    def _find(self, data: bytes, digest: int) -> tuple[int, int]:
        """Return the slot holding the key (or the free slot for it) and its entry (or -1)."""
        mask = len(self._slots) - 1
        slot = digest & mask
        while (entry := self._slots[slot]) >= 0:
            if self._hashes[entry] == digest and self._key(entry) == data:
                return slot, entry
            slot = (slot + 1) & mask
        return slot, -1

    def _grow(self) -> None:
        """Double the slots, so they stay at most half full and probes stay short."""
        slots = array("i", [-1]) * (2 * len(self._slots))
        mask = len(slots) - 1
        for entry, digest in enumerate(self._hashes):
            slot = digest & mask
            while slots[slot] >= 0:
                slot = (slot + 1) & mask
            slots[slot] = entry
        self._slots = slots
