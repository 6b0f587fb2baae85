"""The web kitchen: a local page on the real engines (`omakase web`).

shelf.py knows which checkpoints the server may open (the client names them by id,
never by path); kitchen.py computes what the page shows, as plain data, through the
service layer; tracing.py walks the autograd graph; training.py runs the one
background training; app.py is the thin FastAPI layer (it also streams an assistant's
replies, through a callable the command line gives it); catalogue/ holds the page's
own words (the model's parts are named by omakase.anatomy, as the tour names them);
static/ is the page, one section per chapter of the tour, and talk.js the last one,
talking to an assistant.
"""
