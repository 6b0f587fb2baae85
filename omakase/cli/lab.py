"""`omakase lab ...`: the tasting lab (embeddings, similarity, code search). Placeholder until built."""

import typer

app = typer.Typer(help="The tasting lab: embeddings, similarity and semantic code search.", no_args_is_help=True)
