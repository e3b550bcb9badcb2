"""Telegram's HTML parse mode: text plus entities, measured in UTF-16 code units."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from bot.standin.aliases import JsonDict


class EntityParseError(ValueError):
    """The text is not valid in Telegram's HTML parse mode."""


@dataclass(frozen=True)
class ParsedText:
    """Plain text plus Telegram message entities (offsets in UTF-16 code units)."""

    text: str
    entities: list[JsonDict]


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units, so an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


_TAG_ENTITY: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_ATTR: Final = r"[^\s=>/\"']+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?"
_START_TAG: Final = re.compile(rf"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+{_ATTR})*)\s*(/?)>")
_ATTRIBUTE: Final = re.compile(r"([^\s=>/\"']+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
_END_TAG: Final = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_CHAR_REF: Final = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z][a-zA-Z0-9]*));")
_NAMED_REFS: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_PLAIN_RUN: Final = re.compile(r"[^<&]+")


@dataclass
class _OpenTag:
    name: str
    offset: int
    entity: JsonDict | None  # None when the tag only contributes to its parent (code in pre)


class _TelegramHtml:
    """A deliberately unforgiving parser for Telegram's HTML subset.

    Our own tokenizer rather than html.parser, because html.parser silently accepts things
    Telegram rejects (stray '<', CDATA content of <script>, entities without ';').
    """

    def __init__(self, source: str) -> None:
        self._src = source
        self._pos = 0
        self._out: list[str] = []
        self._u16 = 0
        self._stack: list[_OpenTag] = []
        self._entities: list[JsonDict] = []

    def parse(self) -> ParsedText:
        while self._pos < len(self._src):
            char = self._src[self._pos]
            if char == "<":
                self._tag()
            elif char == "&":
                decoded, self._pos = _decode_char_ref(self._src, self._pos)
                self._append(decoded)
            else:
                run = _PLAIN_RUN.match(self._src, self._pos)
                assert run is not None  # the current char is neither '<' nor '&'
                self._append(run.group())
                self._pos = run.end()
        if self._stack:
            name = self._stack[-1].name
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        entities = sorted(self._entities, key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self._out), entities)

    def _append(self, text: str) -> None:
        self._out.append(text)
        self._u16 += utf16_len(text)

    def _tag(self) -> None:
        if self._src.startswith("</", self._pos):
            self._end_tag()
            return
        match = _START_TAG.match(self._src, self._pos)
        if match is None:
            raise _error(self._src, self._pos, 'Unexpected "<"; escape it as "&lt;"')
        name = match.group(1).lower()
        if name not in _TAG_ENTITY or match.group(3):
            raise _error(self._src, self._pos, f'Unsupported start tag "{name}"')
        attributes = _attributes(self._src, self._pos, match.group(2))
        entity = self._entity_for(name, attributes)
        self._stack.append(_OpenTag(name, self._u16, entity))
        self._pos = match.end()

    def _entity_for(self, name: str, attributes: dict[str, str]) -> JsonDict | None:
        def require(attribute: str, expected: str | None = None) -> str:
            value = attributes.get(attribute, "")
            if not value or (expected is not None and value != expected):
                wanted = f'"{expected}"' if expected else "a non-empty value"
                message = f'Tag "{name}" must have attribute "{attribute}" with {wanted}'
                raise _error(self._src, self._pos, message)
            return value

        if name == "a":
            return {"type": "text_link", "url": require("href")}
        if name == "span":
            require("class", "tg-spoiler")
        if name == "tg-emoji":
            return {"type": "custom_emoji", "custom_emoji_id": require("emoji-id")}
        if name == "blockquote" and "expandable" in attributes:
            return {"type": "expandable_blockquote"}
        if name == "code" and self._is_pre_language(attributes):
            return None
        return {"type": _TAG_ENTITY[name]}

    def _is_pre_language(self, attributes: dict[str, str]) -> bool:
        # <pre><code class="language-x"> is one pre entity with a language, not two entities.
        language = attributes.get("class", "")
        parent = self._stack[-1] if self._stack else None
        if not language.startswith("language-") or parent is None or parent.entity is None:
            return False
        if parent.name != "pre" or parent.offset != self._u16:
            return False
        parent.entity["language"] = language.removeprefix("language-")
        return True

    def _end_tag(self) -> None:
        match = _END_TAG.match(self._src, self._pos)
        if match is None:
            raise _error(self._src, self._pos, "Unclosed end tag")
        name = match.group(1).lower()
        if not self._stack:
            raise _error(self._src, self._pos, f'Unexpected end tag "</{name}>"')
        top = self._stack[-1]
        if top.name != name:
            expected = f'expected "</{top.name}>", found "</{name}>"'
            raise _error(self._src, self._pos, f"Unmatched end tag, {expected}")
        self._stack.pop()
        self._pos = match.end()
        length = self._u16 - top.offset
        if top.entity is not None and length > 0:
            self._entities.append({**top.entity, "offset": top.offset, "length": length})


def _error(source: str, index: int, message: str) -> EntityParseError:
    # Telegram reports positions as UTF-8 byte offsets into the text as sent.
    offset = len(source[:index].encode("utf-8"))
    return EntityParseError(f"{message} at byte offset {offset}")


def _decode_char_ref(source: str, index: int) -> tuple[str, int]:
    match = _CHAR_REF.match(source, index)
    if match is None:
        raise _error(source, index, 'Character "&" must be escaped as "&amp;"')
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name not in _NAMED_REFS:
            raise _error(source, index, f'Unsupported HTML entity "&{name};"')
        return _NAMED_REFS[name], match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        raise _error(source, index, f'Invalid character reference "{match.group()}"')
    return chr(code), match.end()


def _attributes(source: str, tag_index: int, text: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text):
        raw = match.group(2) or ""
        if raw[:1] in {'"', "'"}:
            raw = raw[1:-1]
        attributes[match.group(1).lower()] = _decode_attribute(source, tag_index, raw)
    return attributes


def _decode_attribute(source: str, tag_index: int, raw: str) -> str:
    parts: list[str] = []
    position = 0
    while (amp := raw.find("&", position)) >= 0:
        parts.append(raw[position:amp])
        try:
            decoded, position = _decode_char_ref(raw, amp)
        except EntityParseError as exc:
            raise _error(source, tag_index, f"Bad attribute value: {exc}") from exc
        parts.append(decoded)
    parts.append(raw[position:])
    return "".join(parts)


def parse_telegram_html(source: str) -> ParsedText:
    """Parse ``source`` the way Telegram's ``parse_mode=HTML`` does, or raise EntityParseError."""
    return _TelegramHtml(source).parse()
