"""The tour as one HTML page: self-contained, and nothing cut off at a phone's width (in Chromium)."""

from html.parser import HTMLParser

import pytest

from omakase.tour import chapters, html_page, story
from tour_data import PHONE, needs_chromium, phone_page


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.srcs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.srcs += [value for key, value in attrs if key in ("src", "href") and not value.startswith("#")]


@pytest.mark.parametrize("lang", story.LANGUAGES)
def test_the_page_is_self_contained(measured, drawn, lang):
    t = story.Catalogue(lang)
    told = [chapters.tell(n, d, t) for n, d in measured.items()]
    html = html_page.page(t, ["intro"], told, drawn, story.metaphor_map(t))
    assert "http://" not in html and "https://" not in html and "<script" not in html
    parser = Tags()
    parser.feed(html)
    assert not parser.srcs  # nothing to fetch: figures are SVG elements of the page
    assert parser.tags.count("section") == 9 and parser.tags.count("svg") == len(drawn) and "img" not in parser.tags
    assert len(html.encode()) < 1_000_000
    assert 'name="viewport"' in html and f'lang="{lang}"' in html




@needs_chromium
def test_nothing_is_cut_off_at_a_phones_width(measured, drawn, tmp_path):
    """At 390 px the page never scrolls sideways: every figure shrinks to the column, and a table too wide
    for it scrolls inside its own box (which the page's CSS gives a shadow at the edge that hides more)."""
    pages = {}
    for lang in story.LANGUAGES:
        t = story.Catalogue(lang)
        told = [chapters.tell(n, d, t) for n, d in measured.items()]
        pages[lang] = tmp_path / f"tour-{lang}.html"
        pages[lang].write_text(html_page.page(t, ["intro"], told, drawn, story.metaphor_map(t)), encoding="utf-8")
    with phone_page() as page:
        for lang, path in pages.items():
            page.goto(path.as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") == PHONE, lang
            figures = page.evaluate("[...document.querySelectorAll('figure svg')].map("
                                    "s => s.getBoundingClientRect().right)")
            assert len(figures) == len(drawn) and max(figures) <= PHONE, lang
            # a table wider than the column scrolls inside its own box, never past the page's edge
            boxes = page.evaluate("[...document.querySelectorAll('.scroll')].map(b => [b.getBoundingClientRect()"
                                  ".right, b.scrollWidth > b.clientWidth, getComputedStyle(b).overflowX])")
            assert boxes and all(right <= PHONE for right, _, _ in boxes), lang
            assert all(overflow == "auto" for _, wide, overflow in boxes if wide), lang
