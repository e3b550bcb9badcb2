"""The /chart picture: its size and layout, Arabic shaped right to left, every glyph present."""

from __future__ import annotations

import io
import logging
import unicodedata
import warnings
from pathlib import Path

import arabic_reshaper
import numpy as np
import pytest
from bidi import get_display
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text
from PIL import Image

from conversations.i18n import Catalogs, Translator
from conversations.render.charts import (
    COMPACT_COLOURS,
    LABEL_SIZE,
    MARGIN,
    WIDTH,
    build_figure,
    display_text,
    families_for,
    font_families,
    font_files,
    render_chart,
)
from conversations.vocabulary import GCM_OBJECTIVES, GCR_OBJECTIVES, STAGES, label, objective_label
from storage.charts import ChartData

TELEGRAM_LONGEST_SIDE = 1280  # the largest size Telegram is sure to keep of a photo
FORUM_NAMES = {
    "en": "Global Refugee Forum 2027",
    "ar": "المنتدى العالمي للاجئين 2027",
    "zh_Hans": "2027年全球难民论坛",
    "ru": "Глобальный форум по беженцам 2027",
    "fr": "Forum mondial sur les réfugiés 2027",
}
MANY = ChartData(
    total=57,
    by_objective={("gcm", n): (n * 7) % 13 + 1 for n in GCM_OBJECTIVES}
    | {("gcr", n): n * 3 for n in GCR_OBJECTIVES},
    by_stage={"planning": 30, "in_progress": 20, "fulfilled": 7},
)
ONE = ChartData(total=3, by_objective={("gcm", 1): 3}, by_stage={"planning": 3})


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])


def ink(area: np.ndarray) -> int:
    """Dark pixels: text."""
    return int((area.sum(axis=2) < 200).sum())


def first_bar_rows(image: np.ndarray, colour: str) -> tuple[int, np.ndarray]:
    """The top row of the first bar of `colour`, and which columns it covers."""
    mask = np.abs(image - rgb(colour)).sum(axis=2) < 30
    rows = np.flatnonzero(mask.any(axis=1))
    assert rows.size, f"no bar of {colour}"
    return int(rows[0]), mask[rows[0]]


def test_the_chart_is_phone_sized_with_large_type(catalogs: Catalogs) -> None:
    png = render_chart(catalogs.translator("en"), MANY, FORUM_NAMES["en"])
    assert png.startswith(b"\x89PNG")
    width, height = Image.open(io.BytesIO(png)).size
    assert width == WIDTH == 1080
    # Were Telegram to keep only 1280 px of the longest side, labels would still be ≥ 28 px.
    assert LABEL_SIZE * min(1, TELEGRAM_LONGEST_SIDE / height) >= 28, height
    image = pixels(png)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20  # text antialiased, bars coloured
    # The most pledged objective's bar runs from the left margin; its label is just above.
    top, covered = first_bar_rows(image, COMPACT_COLOURS["gcm"])
    assert covered[MARGIN + 2] and not covered[WIDTH - MARGIN - 2]
    assert ink(image[top - LABEL_SIZE - 10 : top, MARGIN : MARGIN + 300]) > 300


def test_arabic_chart_is_laid_out_right_to_left(catalogs: Catalogs) -> None:
    english = pixels(render_chart(catalogs.translator("en"), ONE, FORUM_NAMES["en"]))
    arabic = pixels(render_chart(catalogs.translator("ar"), ONE, FORUM_NAMES["ar"]))
    assert arabic.shape == english.shape
    top, covered = first_bar_rows(arabic, COMPACT_COLOURS["gcm"])
    assert covered[WIDTH - MARGIN - 2] and not covered[MARGIN + 2]  # the bar grows leftwards
    band = arabic[top - LABEL_SIZE - 10 : top]
    # "GCM 1 · البيانات" is short: it sits at the right margin and leaves the left half empty.
    assert ink(band[:, WIDTH - MARGIN - 300 : WIDTH - MARGIN]) > 300
    assert ink(band[:, 300 : WIDTH // 2]) == 0  # (the bar's count stands further left)


def draw_line(text: str, families: list[str], *, size: int = 48) -> np.ndarray:
    """One line of text alone on a white image, right-aligned as in an Arabic chart."""
    figure = Figure(figsize=(900 / 72, 100 / 72), dpi=72, facecolor="white")
    FigureCanvasAgg(figure)
    figure.text(
        0.97, 0.3, text, fontproperties=FontProperties(family=families, size=size), ha="right"
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72, facecolor="white")
    return pixels(buffer.getvalue())


def differing(a: np.ndarray, b: np.ndarray) -> float:
    """The share of the ink of either image that the other does not have."""
    dark_a, dark_b = a.sum(axis=2) < 384, b.sum(axis=2) < 384
    return float((dark_a ^ dark_b).sum() / max(1, (dark_a | dark_b).sum()))


def drawn_texts(t: Translator, data: ChartData, name: str) -> list[str]:
    figure = build_figure(t, data, name)
    return [artist.get_text() for artist in figure.findobj(Text) if artist.get_text()]


def test_arabic_labels_are_shaped_and_in_visual_order(catalogs: Catalogs) -> None:
    t = catalogs.translator("ar")
    logical = objective_label(t, "gcm", 5)  # "GCM 5 · مسارات الهجرة النظامية", isolates and all
    drawn = display_text(t, logical)
    gcm5 = ChartData(total=1, by_objective={("gcm", 5): 1}, by_stage={"planning": 1})
    assert drawn in drawn_texts(t, gcm5, "x")  # what the chart hands to matplotlib
    # An independent shaping: presentation forms (joined letters) in visual order, drawn with
    # the order forced left to right so that nothing reorders it again. The isolates around
    # each value take part in the ordering ("GCM", then "5", read from the right).
    visual = get_display(arabic_reshaper.reshape(logical), base_dir="R")
    visual = "".join(c for c in visual if unicodedata.category(c) != "Cf")
    bare = "".join(c for c in logical if unicodedata.category(c) != "Cf")
    assert any(0xFE70 <= ord(c) <= 0xFEFF for c in visual), "the reference is not shaped"
    reference = draw_line(f"\u202d{visual}\u202c", families_for("ar"))
    chart = draw_line(drawn, families_for("ar"))
    # Letters unjoined and left to right: what a renderer without shaping or bidi would show.
    unshaped = draw_line(f"\u202d{bare}\u202c", families_for("ar"))
    assert differing(chart, reference) < 0.15  # (HarfBuzz places a few glyphs a pixel apart)
    assert differing(unshaped, reference) > 0.3


def fonts_in_use(language: str) -> list[tuple[str, Path]]:
    """The files matplotlib resolves the chart's families to (never a fallback font)."""
    return [
        (name, Path(font_manager.findfont(FontProperties(family=name), fallback_to_default=False)))
        for name in families_for(language)
    ]


def chart_strings(t: Translator, name: str) -> list[str]:
    texts = drawn_texts(t, MANY, name)
    texts += [objective_label(t, "gcm", n) for n in GCM_OBJECTIVES]
    texts += [objective_label(t, "gcr", n) for n in GCR_OBJECTIVES]
    texts += [label(t, STAGES, s) for s in STAGES]
    return texts


def visible(text: str) -> set[str]:
    """The characters that need a glyph (not spaces, not bidi controls)."""
    return {c for c in text if not c.isspace() and unicodedata.category(c) != "Cf"}


@pytest.mark.parametrize("language", ["ar", "zh_Hans", "ru", "fr", "es", "pt", "en"])
def test_the_bundled_fonts_have_a_glyph_for_every_character(
    catalogs: Catalogs, language: str
) -> None:
    t = catalogs.translator(language)
    used = fonts_in_use(t.language)
    bundled = {path.resolve() for path in font_files()}
    assert {path.resolve() for _, path in used} == bundled, used
    cmaps = {name: set(TTFont(path, lazy=True).getBestCmap()) for name, path in used}
    _latin, arabic, cjk = font_families()
    for text in chart_strings(t, FORUM_NAMES.get(t.language, FORUM_NAMES["en"])):
        for char in visible(text):
            assert any(ord(char) in cmap for cmap in cmaps.values()), (char, text)
            if "CJK" in unicodedata.name(char, ""):
                assert ord(char) in cmaps[cjk], (char, text)
            if unicodedata.bidirectional(char) == "AL":
                assert ord(char) in cmaps[arabic], (char, text)


@pytest.mark.parametrize("language", ["ar", "zh_Hans", "ru", "en"])
def test_rendering_warns_of_no_missing_glyph_or_font(
    catalogs: Catalogs, language: str, caplog: pytest.LogCaptureFixture
) -> None:
    t = catalogs.translator(language)
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        render_chart(t, MANY, FORUM_NAMES.get(language, "x"))
    assert not [w for w in caught if "missing from" in str(w.message)], caught
    assert "findfont" not in caplog.text


def test_chinese_is_drawn_with_its_glyphs_not_boxes() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        boxes = draw_line("技能发展与承认", ["DejaVu Sans"])
    assert any("missing from" in str(w.message) for w in caught)  # the control lacks them
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        glyphs = draw_line("技能发展与承认", families_for("zh_Hans"))
    assert not caught
    assert differing(glyphs, boxes) > 0.5


def test_a_long_forum_name_is_cut_to_the_width(catalogs: Catalogs) -> None:
    t = catalogs.translator("en")
    figure = build_figure(t, ONE, "Forum " * 60)
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    title = next(a for a in figure.findobj(Text) if a.get_text().startswith("Forum"))
    assert title.get_text().endswith("…")
    assert title.get_window_extent(renderer).width <= WIDTH - 2 * MARGIN
