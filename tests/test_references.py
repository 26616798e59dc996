"""References resolve: sources cite docs/references.md, never files outside the repository.

A source in ``configs/`` names a reference by its key in square brackets
(``Paul & Moser 2009 [paul-moser-2009]: ...``); the documentation cites the same keys,
usually as links (``[paul-moser-2009](references.md#paul-moser-2009)``). Each key must be
defined in docs/references.md as ``<a id="key"></a>**[key]**``.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = ROOT / "docs" / "references.md"

# The project's working briefs live outside the repository; a reader cannot open them.
OUTSIDE_FILES = ("DOMAIN.md", "EVIDENCE.md", "MEMPHREMAGOG.md", "DESIGN.md", "STYLE.md")
OUTSIDE = re.compile("|".join(re.escape(f) for f in OUTSIDE_FILES))

# A key: lower-case words joined by hyphens, at least two of them (paul-moser-2009).
KEY = re.compile(r"\[([a-z0-9]+(?:-[a-z0-9]+)+)\]")
# A link to an entry, from the documentation: [Paul & Moser 2009](references.md#paul-moser-2009).
ANCHOR = re.compile(r"references\.md#([A-Za-z0-9_-]+)")
DEFINITION = re.compile(r'^<a id="([^"]+)"></a>\*\*\[([^\]]+)\]\*\*', re.MULTILINE)

CONFIG_FILES = sorted(p for p in (ROOT / "configs").rglob("*") if p.suffix in (".toml", ".csv", ".md"))
DOC_FILES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
CODE_FILES = sorted(p for d in ("model", "experiments") for p in (ROOT / d).rglob("*.py"))


def defined_keys(text: str) -> set[str]:
    """Keys defined in a reference list; an anchor must match its key."""
    keys = set()
    for anchor, key in DEFINITION.findall(text):
        assert anchor == key, f"docs/references.md: anchor {anchor!r} does not match key [{key}]"
        assert key not in keys, f"docs/references.md: key [{key}] defined twice"
        keys.add(key)
    return keys


def outside_mentions(text: str) -> list[str]:
    """Lines of a text that name a file outside the repository."""
    return [line.strip() for line in text.splitlines() if OUTSIDE.search(line)]


def cited_keys(text: str) -> set[str]:
    """Keys cited as [key] and entries linked as references.md#key."""
    return set(KEY.findall(text)) | set(ANCHOR.findall(text))


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_reference_list_defines_keys():
    keys = defined_keys(REFERENCES.read_text(encoding="utf-8"))
    assert len(keys) >= 40
    assert {"small-cities-magog", "paul-moser-2009", "ei-act", "statcan-census-2011"} <= keys


@pytest.mark.parametrize("path", CONFIG_FILES + DOC_FILES + CODE_FILES, ids=_rel)
def test_no_source_names_a_file_outside_the_repository(path):
    found = outside_mentions(path.read_text(encoding="utf-8"))
    assert not found, (
        f"{_rel(path)} cites files outside the repository; cite a key of "
        f"docs/references.md instead:\n" + "\n".join(found[:10])
    )


@pytest.mark.parametrize("path", CONFIG_FILES + DOC_FILES, ids=_rel)
def test_every_cited_key_is_in_the_reference_list(path):
    keys = defined_keys(REFERENCES.read_text(encoding="utf-8"))
    missing = sorted(cited_keys(path.read_text(encoding="utf-8")) - keys)
    assert not missing, f"{_rel(path)} cites keys missing from docs/references.md: {missing}"


def test_the_checks_catch_the_old_style_and_unknown_keys():
    old = 'job_loss = { value = 0.36, unit = "SD", source = "Murphy & Athanasou 1999 (EVIDENCE.md): ..." }'
    assert outside_mentions(old)
    keys = defined_keys(REFERENCES.read_text(encoding="utf-8"))
    assert cited_keys('source = "Paul & Moser 2009 [paul-moser-2009]: d = 0.51"') <= keys
    assert cited_keys("see [no-such-reference-1999](references.md#no-such-reference-1999)") - keys
    assert cited_keys("[Paul & Moser 2009](references.md#paul-moser-2008)") - keys
    # TOML tables and value lists are not keys
    assert not cited_keys("[interventions.helper_training]\nvalue = [0.31, 0.38]\n[run]")
