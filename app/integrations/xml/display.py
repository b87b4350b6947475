"""XML as people read it: one element a line, indented, without parsing the document.

The ledger keeps the order XML exactly as sent, on one line. ``indent`` only adds line breaks
and indentation between elements: text and CDATA sections stay as they are (a CDATA section is
never split, even when it holds ``<`` or ``>``), so what the console shows is what was sent,
laid out. Text that is not well-formed comes back laid out as far as its tags go.
"""

from __future__ import annotations

import re

TOKEN = re.compile(r"<!\[CDATA\[.*?\]\]>|<!--.*?-->|<[^>]*>|[^<]+", re.S)
STEP = "  "


def _is_tag(token: str) -> bool:
    return token.startswith("<") and not token.startswith("<![CDATA[")


def indent(text: str | None) -> str:
    """``<a><b>1</b></a>`` -> ``<a>\\n  <b>1</b>\\n</a>``; leaf elements stay on one line."""
    tokens = TOKEN.findall(text or "")
    lines: list[str] = []
    depth, i = 0, 0
    while i < len(tokens):
        token = tokens[i]
        if not _is_tag(token):  # text between elements: kept unless it is only layout
            if token.strip():
                lines.append(STEP * depth + token.strip())
            i += 1
            continue
        if token.startswith("</"):
            depth = max(depth - 1, 0)
            lines.append(STEP * depth + token)
            i += 1
            continue
        if token.startswith(("<?", "<!")) or token.endswith("/>"):
            lines.append(STEP * depth + token)
            i += 1
            continue
        j, inner = i + 1, ""
        while j < len(tokens) and not _is_tag(tokens[j]):
            inner += tokens[j]
            j += 1
        if j < len(tokens) and tokens[j].startswith("</"):  # a leaf: <tag>text</tag>
            lines.append(STEP * depth + token + inner + tokens[j])
            i = j + 1
            continue
        lines.append(STEP * depth + token)
        depth += 1
        i += 1
    return "\n".join(lines)
