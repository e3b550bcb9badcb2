"""A forum's pledges as a PNG for a phone: by objective and by stage, in the reader's language.

Fonts come from PyPI packages declared in pyproject.toml (Noto Sans for Latin, Greek and
Cyrillic; Noto Sans Arabic; Noto Sans CJK for Chinese), so no system font is ever needed.
Matplotlib 3.11 lays text out with libraqm (HarfBuzz shaping, the Unicode bidi algorithm):
Arabic is drawn from its logical text, joined and right to left. Text that is shaped and
reordered beforehand (arabic_reshaper, python-bidi) would be reordered a second time.
"""

from __future__ import annotations

import functools
import html
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cvttf_NotoSansCJK_Regular
import fontpkg
from matplotlib import font_manager
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle

from conversations.i18n import Translator
from conversations.vocabulary import STAGES, label, objective_label
from storage.charts import ChartData
from storage.models import Compact, Stage

# The figure is laid out in pixels: at 72 dpi a point is a pixel, so sizes below are pixels.
DPI = 72
WIDTH = 1080
MARGIN = 48
TITLE_SIZE = 44
SUBTITLE_SIZE = 30
HEADING_SIZE = 36
LABEL_SIZE = 32  # ≥ 28 px even if Telegram scales a tall chart down to 1280 px
LINE = 1.45  # line height, in font sizes: room for Arabic descenders above the next bar
BASELINE = 1.0  # from a line's top to its baseline, in font sizes
BAR = 26
ROW_GAP = 12
SECTION_GAP = 36
VALUE_ROOM = 150  # kept free beside the longest bar for its count
MAX_OBJECTIVES = 8  # the most pledged; more would not stay readable on a phone
ELLIPSIS = "…"

BACKGROUND = "#FFFFFF"
INK = "#1A1A1A"
MUTED = "#5A5A5A"
COMPACT_COLOURS = {Compact.GCM.value: "#0072BC", Compact.GCR.value: "#E07B00"}
STAGE_COLOURS = {
    Stage.PLANNING.value: "#8C8C8C",
    Stage.IN_PROGRESS.value: "#0072BC",
    Stage.FULFILLED.value: "#2E8540",
}

RLM = "\u200f"  # right-to-left mark: makes a paragraph right to left, draws nothing


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    colour: str


def font_files() -> tuple[Path, Path, Path]:
    """The bundled font files: Latin/Greek/Cyrillic, Arabic, CJK (in that order)."""
    return (
        Path(str(fontpkg.path("Noto Sans"))),
        Path(str(fontpkg.path("Noto Sans Arabic"))),
        Path(str(cvttf_NotoSansCJK_Regular.get_TTF_path())),
    )


@functools.cache
def font_families() -> tuple[str, str, str]:
    """The bundled fonts, registered with matplotlib once; their family names."""
    latin, arabic, cjk = (str(path) for path in font_files())
    for path in (latin, arabic, cjk):
        font_manager.fontManager.addfont(path)
    return (
        font_manager.get_font(latin).family_name,
        font_manager.get_font(arabic).family_name,
        font_manager.get_font(cjk).family_name,
    )


def families_for(language: str) -> list[str]:
    """Fonts in fallback order, the reader's script first so its punctuation matches."""
    latin, arabic, cjk = font_families()
    base = language.split("_", 1)[0]
    if base == "ar":
        return [arabic, latin, cjk]
    if base in ("zh", "ja", "ko"):
        return [cjk, latin, arabic]
    return [latin, arabic, cjk]


def is_right_to_left(text: str) -> bool:
    """Whether `text` has a right-to-left letter (an untranslated English line has none)."""
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def display_text(t: Translator, text: str) -> str:
    """Text as handed to matplotlib: in logical order, a right-to-left paragraph marked so."""
    if t.rtl and is_right_to_left(text):
        # The bidi algorithm takes a paragraph's direction from its first strong letter;
        # "GCM 5 · …" would make an Arabic label a left-to-right line. The mark says otherwise.
        return RLM + text
    return text


def objective_bars(t: Translator, data: ChartData) -> tuple[list[Bar], int]:
    """The most frequent objectives, most pledged first; and how many others are not shown."""
    ranked = sorted(
        ((key, n) for key, n in data.by_objective.items() if n > 0),
        key=lambda item: (-item[1], item[0][0], item[0][1]),
    )
    bars = [
        Bar(objective_label(t, compact, number), count, COMPACT_COLOURS[compact])
        for (compact, number), count in ranked[:MAX_OBJECTIVES]
    ]
    return bars, len(ranked) - len(bars)


def stage_bars(t: Translator, data: ChartData) -> list[Bar]:
    """Every stage, in the order pledges go through them, including those with none."""
    return [
        Bar(label(t, STAGES, stage.value), data.by_stage.get(stage.value, 0), colour)
        for stage, colour in ((s, STAGE_COLOURS[s.value]) for s in Stage)
    ]


def _plain(text: str) -> str:
    """A translated message as plain text (ngettext escapes for HTML; an image is not HTML)."""
    return html.unescape(text)


class _Canvas:
    """Pixel-positioned text and bars on one figure, mirrored for right-to-left readers."""

    def __init__(self, t: Translator, height: int) -> None:
        self.t = t
        self.figure = Figure(figsize=(WIDTH / DPI, height / DPI), dpi=DPI, facecolor=BACKGROUND)
        FigureCanvasAgg(self.figure)
        self.axes = self.figure.add_axes((0, 0, 1, 1))
        self.axes.set_xlim(0, WIDTH)
        self.axes.set_ylim(height, 0)  # y grows downwards, as on a page
        self.axes.set_axis_off()
        self.families = families_for(t.language)
        self.renderer: RendererBase = self.figure.canvas.get_renderer()  # type: ignore[attr-defined]

    def x(self, offset: float) -> float:
        """An offset from the reading side's margin, as an x coordinate."""
        return WIDTH - MARGIN - offset if self.t.rtl else MARGIN + offset

    def text(
        self,
        text: str,
        *,
        y: float,
        size: int,
        offset: float = 0,
        colour: str = INK,
        room: float = WIDTH - 2 * MARGIN,
    ) -> None:
        """One line whose top is `y`, at `offset` from the reading side, cut with … if it is
        wider than `room`. Placed by its baseline, so that every script sits alike."""
        artist = self.axes.text(
            self.x(offset),
            y + BASELINE * size,
            display_text(self.t, text),
            fontproperties=FontProperties(family=self.families, size=size),
            color=colour,
            ha="right" if self.t.rtl else "left",
            va="baseline",
        )
        logical = text
        while logical and artist.get_window_extent(self.renderer).width > room:
            logical = logical[:-1].rstrip()
            artist.set_text(display_text(self.t, logical + ELLIPSIS))

    def bar(self, *, y: float, length: float, colour: str) -> None:
        left = WIDTH - MARGIN - length if self.t.rtl else MARGIN
        self.axes.add_patch(Rectangle((left, y), length, BAR, facecolor=colour, linewidth=0))


def _line(size: int) -> int:
    return round(size * LINE)


def _row_height() -> int:
    return _line(LABEL_SIZE) + BAR + ROW_GAP


def chart_height(objective_rows: int, stage_rows: int, *, more: bool) -> int:
    """The figure's height in pixels for that many bars."""
    return (
        2 * MARGIN
        + _line(TITLE_SIZE)
        + _line(SUBTITLE_SIZE)
        + 2 * (SECTION_GAP + _line(HEADING_SIZE))
        + (objective_rows + stage_rows) * _row_height()
        + (_line(SUBTITLE_SIZE) if more else 0)
    )


def _draw_bars(canvas: _Canvas, bars: Sequence[Bar], y: float, top: int) -> float:
    """A label above each bar, the bar scaled to `top`, its count at its end."""
    t = canvas.t
    longest = WIDTH - 2 * MARGIN - VALUE_ROOM
    for bar in bars:
        canvas.text(bar.label, y=y, size=LABEL_SIZE)
        y += _line(LABEL_SIZE)
        length = longest * bar.count / top if top else 0
        if bar.count:
            canvas.bar(y=y, length=max(length, 4), colour=bar.colour)
        value_y = y + BAR / 2 - _line(LABEL_SIZE) / 2
        canvas.text(
            t.number(bar.count), y=value_y, size=LABEL_SIZE, offset=length + 12, room=VALUE_ROOM
        )
        y += BAR + ROW_GAP
    return y


def build_figure(t: Translator, data: ChartData, forum_name: str) -> Figure:
    """The chart as a matplotlib figure (render_chart turns it into a PNG)."""
    objectives, hidden = objective_bars(t, data)
    stages = stage_bars(t, data)
    canvas = _Canvas(t, chart_height(len(objectives), len(stages), more=bool(hidden)))
    y: float = MARGIN
    canvas.text(forum_name, y=y, size=TITLE_SIZE)
    y += _line(TITLE_SIZE)
    subtitle = t.ngettext(
        "%(count)s pledge (drafts and withdrawn pledges are not counted)",
        "%(count)s pledges (drafts and withdrawn pledges are not counted)",
        data.total,
    )
    canvas.text(_plain(subtitle), y=y, size=SUBTITLE_SIZE, colour=MUTED)
    y += _line(SUBTITLE_SIZE) + SECTION_GAP

    canvas.text(t.plain("Pledges by objective"), y=y, size=HEADING_SIZE)
    y += _line(HEADING_SIZE)
    top = max((b.count for b in objectives), default=0)
    y = _draw_bars(canvas, objectives, y, top)
    if hidden:
        more = t.ngettext("…and %(count)s more objective", "…and %(count)s more objectives", hidden)
        canvas.text(_plain(more), y=y, size=SUBTITLE_SIZE, colour=MUTED)
        y += _line(SUBTITLE_SIZE)

    y += SECTION_GAP
    canvas.text(t.plain("Pledges by stage"), y=y, size=HEADING_SIZE)
    y += _line(HEADING_SIZE)
    _draw_bars(canvas, stages, y, max((b.count for b in stages), default=0))
    return canvas.figure


def render_chart(t: Translator, data: ChartData, forum_name: str) -> bytes:
    """The chart as PNG bytes, about 1080 px wide."""
    figure = build_figure(t, data, forum_name)
    try:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, facecolor=BACKGROUND)
        return buffer.getvalue()
    finally:
        # The figure was never registered with pyplot, so nothing else holds it; clearing
        # drops its artists and Agg buffer now rather than at the next garbage collection.
        figure.clear()
