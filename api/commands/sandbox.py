"""`fovea sandbox ...`: seed and serve the Crystal PM sandbox."""

import typer

app = typer.Typer(help="The Crystal PM sandbox: a local stand-in with a synthetic practice.", no_args_is_help=True)
