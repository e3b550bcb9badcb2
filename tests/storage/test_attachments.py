"""Documents' names and copies: safe on any disk, never two of one name in a pledge."""

from __future__ import annotations

from pathlib import Path

from storage.attachments import (
    MAX_NAME_BYTES,
    content_matches,
    keep_copy,
    kept_name,
    safe_file_name,
)


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


def test_a_type_is_its_extension_or_else_the_mime_type_telegram_reports() -> None:
    assert kept_name("IMG_0042.HEIC", "image/heic") == "IMG_0042.HEIC"
    assert kept_name("photo.heif", "") == "photo.heif"
    assert kept_name("map.gif", "image/gif") == "map.gif"
    assert kept_name("virus.exe", "application/pdf") is None  # an extension is never overruled
    assert kept_name("scan", "application/pdf") == "scan.pdf"
    assert kept_name("budget", "application/vnd.ms-excel; charset=binary") == "budget.xls"
    assert kept_name("notes.", "text/plain") == "notes.txt"
    assert kept_name("document", "application/octet-stream") is None
    assert kept_name("program", "application/x-msdownload") is None


HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 40
# iPhones write "mif1" as the main brand of some photos, "heic" among the compatible ones.
HEIC_MIF1_FIRST = b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1miafheic" + b"\x00" * 40
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomavc1" + b"\x00" * 40


def test_the_content_must_be_what_the_name_says() -> None:
    good = {
        "plan.pdf": b"%PDF-1.7\n...",
        "plan.docx": b"PK\x03\x04...",
        "plan.ODS": b"PK\x03\x04...",
        "plan.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1...",
        "plan.ppt": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1...",
        "map.png": b"\x89PNG\r\n\x1a\n...",
        "map.jpg": b"\xff\xd8\xff\xe0...",
        "map.jpeg": b"\xff\xd8\xff\xe1...",
        "map.gif": b"GIF89a...",
        "old.gif": b"GIF87a...",
        "map.webp": b"RIFF\x10\x00\x00\x00WEBPVP8 ...",
        "IMG_0042.heic": HEIC,
        "IMG_0043.HEIC": HEIC_MIF1_FIRST,
        "IMG_0044.heif": HEIC,
        "notes.txt": "Партнёры: 3 🌍\r\n".encode(),
        "budget.csv": b"\xef\xbb\xbfline,amount\nclasses,1200\n",
        "empty.txt": b"",
        "notes-notepad.txt": b"\xff\xfeP\x00a\x00",  # UTF-16 with its byte-order mark
        "budget-excel.csv": "ligne;montant\r\nRéfugiés;1200\r\n".encode("cp1252"),
        "locked.docx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1...",  # protected by a password
        "letter.doc": b"{\\rtf1\\ansi ...",
        "scanned.pdf": b"\r\n\x00junk before the mark %PDF-1.4",
    }
    for name, content in good.items():
        assert content_matches(name, content), name
    bad = {
        "virus.pdf": b"MZ\x90\x00\x03 This program cannot be run in DOS mode",
        "plan.docx": b"%PDF-1.7",
        "plan.doc": b"PK\x03\x04",
        "map.png": b"\xff\xd8\xff\xe0",
        "map.webp": b"RIFF\x10\x00\x00\x00WAVEfmt ",
        "video.heic": MP4,
        "short.heic": b"\x00\x00",
        "notes.txt": b"P\x00a\x00",  # UTF-16 without its mark: NULs
        "program.txt": b"MZ\x90\x00\x03\x00\x00\x00",
        "nul.csv": b"a,b\x00,c",
        "plan.pdf": b"",
        "virus.exe": b"MZ\x90\x00",
    }
    for name, content in bad.items():
        assert not content_matches(name, content), name
