"""The tour: the kitchen story told by a live Ming (see `omakase tour`).

    ming.py       Ming for the tour: trained with the reference settings, cached, or loaded
    chapters.py   each chapter's live numbers, as plain data
    story.py      the catalogue's sentences woven around those numbers, as blocks
    catalogue/    every sentence, one JSON file per language (en, zh), the same keys in each
    telling.py    the blocks in the terminal (rich)
    figures.py    the figures (PNG, SVG and the CSV data behind each)
    report.py     the blocks and figures as one self-contained HTML page
"""
