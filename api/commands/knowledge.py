"""`fovea check ...`: the deterministic validator."""

import typer

check_app = typer.Typer(help="Deterministic checks a senior coder would make.", no_args_is_help=True)
