"""Untrusted text for drawing tests, and reading an SVG back: its texts, tooltips, links."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

SCRIPT = "<<TABLE HREF='javascript:alert(1)'><TR><TD>click</TD></TR></TABLE>>"
IMAGE = "<IMG SRC='/some/file.png'/>"
TAB_SCRIPT = SCRIPT.replace(" ", "\t")
"""Tabs separate HTML attributes as well as spaces do (a unit name may not hold spaces)."""
REVERSED = "x \u202e0.1807 \u00d7 -3 = -0.5421"
"""A right-to-left override: what follows it would show reversed (1245.0- = 3- x 7081.0)."""
ENTITIES = "&lt;b&gt; AT&amp;T &#8238;"
"""Graphviz decodes entities in labels: as ``<b> AT&T`` and a hidden override, if let."""
AWKWARD = [SCRIPT, IMAGE, TAB_SCRIPT, "<x & y>", "ends in a backslash\\", "\\", "a\\nb",
           "\\N \\G \\L", 'say "hi"', "{record|field}", "a\x00b\x1bc\ud800d", "<>", REVERSED,
           ENTITIES]
DIRECTION_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def svg_tree(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg.encode("utf-8"))


def assert_inert(svg: str) -> None:
    """No element links to script and none embeds an image."""
    for element in svg_tree(svg).iter():
        tag = element.tag.rsplit("}", 1)[-1]
        assert tag != "image", "the SVG embeds an image"
        for key, value in element.attrib.items():
            if key.rsplit("}", 1)[-1] == "href":
                assert "javascript:" not in value.lower(), f"<{tag}> links to {value!r}"


def shown_texts(svg: str) -> list[str]:
    return [element.text or "" for element in svg_tree(svg).iter()
            if element.tag.endswith("}text")]


def tooltips(svg: str) -> list[str]:
    return [value for element in svg_tree(svg).iter()
            for key, value in element.attrib.items() if key.endswith("}title")]
