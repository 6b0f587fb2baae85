"""The tour as one self-contained HTML page: styles and figures inside the file, nothing fetched.

It opens from a file on any device, with no network: the figures are SVG
elements inside the page, the styles are in a <style> element, there are no
scripts and no web fonts. The layout is one readable column that narrows to a
phone's width: figures shrink to the column, and a table too wide for it scrolls
sideways inside its own box (a shadow at the edge says there is more), so the
page itself never does.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from .story import Catalogue, Chapter, Figure, Hint, Para, Question, Summary, Table

STYLE = """
:root { color-scheme: light; --ink: #1d1d1f; --muted: #5b5b60; --line: #d9d6cf; --paper: #fbfaf7; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--paper); color: var(--ink);
       font: 17px/1.6 system-ui, -apple-system, "Segoe UI", "Noto Sans", "PingFang SC", "Microsoft YaHei", sans-serif; }
main { max-width: 52rem; margin: 0 auto; padding: 1rem 1.1rem 4rem; overflow-wrap: break-word; }  /* long links */
h1 { font-size: 1.7rem; line-height: 1.25; margin: 1.2rem 0 0.6rem; }
h2 { font-size: 1.3rem; margin: 2.6rem 0 0.6rem; padding-top: 0.8rem; border-top: 2px solid var(--line); }
p { margin: 0.7rem 0; }
nav ul { list-style: none; padding-left: 0.4rem; margin: 0.4rem 0; }  /* the titles carry their numbers */
nav a, a { color: var(--accent); }
.scroll { overflow-x: auto; margin: 0.8rem 0; -webkit-overflow-scrolling: touch;
  /* a shadow at an edge that hides more table: the hint to scroll, in CSS alone */
  background: linear-gradient(to right, var(--paper) 30%, transparent), linear-gradient(to left, var(--paper) 30%, transparent) 100% 0,
              radial-gradient(farthest-side at 0 50%, rgba(0,0,0,.18), transparent),
              radial-gradient(farthest-side at 100% 50%, rgba(0,0,0,.18), transparent) 100% 0;
  background-repeat: no-repeat; background-size: 40px 100%, 40px 100%, 14px 100%, 14px 100%;
  background-attachment: local, local, scroll, scroll; }
table { border-collapse: collapse; font-size: 0.88rem; min-width: 100%; }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #efece5; }
td { overflow-wrap: normal; }  /* a name is never broken; a table too wide scrolls in its box instead */
:lang(zh) { line-break: strict; }  /* no line starts with a closing mark or a comma */
figure { margin: 1rem 0; }
figure svg { display: block; width: 100%; max-width: 100%; height: auto; background: #fff;
             border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 0.85rem; margin-top: 0.3rem; }
.summary { border-left: 4px solid var(--accent); background: #eef4f9; padding: 0.6rem 0.9rem; font-weight: 600; }
.question { border: 1px solid #d8c8e8; border-radius: 6px; padding: 0.5rem 0.9rem; margin: 1rem 0; }
.question summary { cursor: pointer; font-weight: 600; }
.question summary span { color: #7a3e9d; margin-right: 0.5rem; }
.summary span { display: block; font-size: 0.75rem; font-weight: 400; color: var(--muted); text-transform: uppercase; }
footer { margin-top: 3rem; color: var(--muted); font-size: 0.85rem; }
@media (max-width: 600px) { body { font-size: 16px; } h1 { font-size: 1.4rem; } th, td { padding: 0.3rem 0.4rem; } }
"""


def page(t: Catalogue, intro: list[str], chapters: list[Chapter], figures: dict[tuple[int, str], Path],
         metaphor_map: Table) -> str:
    """The whole page. `figures` maps (chapter, figure name) to its PNG file."""
    toc = "".join(f'<li><a href="#ch{c.number}">{escape(c.title)}</a></li>' for c in chapters)
    toc += f'<li><a href="#map">{escape(t("map.title"))}</a></li>'
    body = [f"<h1>{escape(t('tour.title'))}</h1>"] + [f"<p>{escape(p)}</p>" for p in intro]
    body.append(f"<nav><strong>{escape(t('html.contents'))}</strong><ul>{toc}</ul></nav>")
    for chapter in chapters:
        body.append(f'<section id="ch{chapter.number}"><h2>{escape(chapter.title)}</h2>')
        body += [block_html(block, t, figures.get((chapter.number, getattr(block, "name", "")))) for block in
                 chapter.blocks]
        body.append("</section>")
    body.append(f'<section id="map"><h2>{escape(t("map.title"))}</h2><p>{escape(t("map.intro"))}</p>'
                f"{table_html(metaphor_map)}</section>")
    body.append(f"<footer><p>{escape(t('tour.end'))}</p><p>{escape(t('html.footer'))}</p></footer>")
    return (f'<!doctype html>\n<html lang="{t.lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(t('tour.title'))}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")


def block_html(block, t: Catalogue, png: Path | None) -> str:
    if isinstance(block, Para):
        return f"<p>{escape(block.text)}</p>"
    if isinstance(block, Hint):  # it names a flag: for the terminal only
        return ""
    if isinstance(block, Table):
        return table_html(block)
    if isinstance(block, Figure):
        if png is None:
            return ""
        # the figure shrinks to the column's width; its caption states what it shows, in one sentence
        return (f'<figure>{inline_svg(png.with_suffix(".svg"), block.alt)}'
                f"<figcaption>{escape(block.alt)}</figcaption></figure>")
    if isinstance(block, Question):  # the answer stays folded until the reader has guessed: no script needed
        return (f'<details class="question"><summary><span>{escape(t("question.label"))}</span>'
                f"{escape(block.text)}</summary><p><strong>{escape(t('question.answer'))}</strong> "
                f"{escape(block.answer)}</p></details>")
    if isinstance(block, Summary):
        return f'<p class="summary"><span>{escape(t("summary.label"))}</span>{escape(block.text)}</p>'
    raise TypeError(f"unknown block {block!r}")


def inline_svg(path: Path, alt: str) -> str:
    """The figure's SVG as an element of the page (crisp on phones and hi-DPI screens), labelled for screen readers."""
    svg = path.read_text(encoding="utf-8")
    svg = svg[svg.index("<svg"):]  # drop the XML declaration and the doctype: not allowed inside HTML
    # namespaces and RDF metadata are implied inside HTML; without them the page holds no address at all
    svg = re.sub(r"<metadata>.*?</metadata>\s*|<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    return svg.replace("<svg", f'<svg role="img" aria-label="{escape(alt)}"', 1)


def table_html(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>'
