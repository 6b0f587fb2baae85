"""The web kitchen: a local page on the real engines (`omakase web`).

shelf.py knows which checkpoints the server may open (the client names them by id,
never by path); kitchen.py computes what the page shows, as plain data, through the
service layer; tracing.py walks the autograd graph; questions.py asks the tour's
questions of a checkpoint; training.py runs the one background training; app.py is
the thin FastAPI layer; catalogue/ holds the page's own words; static/ is the page.
"""
