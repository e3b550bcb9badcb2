"""Documents' names and copies: safe on any disk, never two of one name in a pledge."""

from __future__ import annotations

from pathlib import Path

from storage.attachments import MAX_NAME_BYTES, keep_copy, safe_file_name


def test_a_name_is_cut_by_its_bytes_and_keeps_its_extension() -> None:
    chinese = safe_file_name("报告" * 40 + ".pdf")
    assert chinese.endswith(".pdf") and len(chinese.encode()) <= MAX_NAME_BYTES
    latin = safe_file_name("a" * 300 + ".docx")
    assert latin.endswith(".docx") and len(latin.encode()) <= MAX_NAME_BYTES
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name('a<b>:c"d|e?.pdf') == "a_b_c_d_e_.pdf"
    assert safe_file_name(" .. ") == "document"


def test_a_long_non_latin_name_is_kept_on_disk(tmp_path: Path) -> None:
    """It once failed with 'File name too long': 120 characters of Chinese are 360 bytes."""
    stored_as, digest = keep_copy(tmp_path, 7, "报告" * 60 + ".pdf", b"%PDF")
    assert (tmp_path / stored_as).read_bytes() == b"%PDF" and len(digest) == 64
    assert stored_as.endswith(".pdf")
