"""The tour: the kitchen story told by a live Ming (see `omakase tour`).

    ming.py       Ming for the tour: trained with the reference settings, cached, or loaded
    live_model.py what every chapter reads: the trained run, the records, the example menus, the article's claims
    second_half.py what chapters 9-15 read: an assistant build's report (shipped, or --assistant DIR) and its BPE
    chapters/     one module per chapter (its measurements, its story, its question, its figures) and CHAPTERS
    story.py      the catalogue of sentences and the blocks a chapter is told in
    catalogue/    every sentence, one JSON file per language (en, zh), the same keys in each
    telling.py    the blocks in the terminal (rich)
    drawing.py    how figures are drawn: palette, style, fonts, shared helpers
    gallery.py    the figures as files (PNG, SVG and the CSV data behind each), kept when unchanged
    html_page.py  the blocks and figures as one self-contained HTML page
"""
