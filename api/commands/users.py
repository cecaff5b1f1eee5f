"""`fovea users ...`: create copilot users and seed the demo staff (the sandbox practice's people)."""

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from billing.practice import User
    from billing.settings import Settings

app = typer.Typer(help="Copilot users: roles, practices and passwords.", no_args_is_help=True)
console = Console()


def seed_demo_users(settings: "Settings") -> tuple[list["User"], list["User"]]:
    """The sandbox's demo staff as copilot users with the demo password: (created, already there). Idempotent."""
    import random

    from api.security.passwords import hash_password
    from api.storage.db import create_db_engine, create_session_factory
    from api.storage.migrate import migrate_engine
    from api.storage.users import create_user, find_user, to_user
    from sandbox.generator.practices import build_practices, build_users

    # The same seed as `fovea sandbox seed`, so ids and practices match the sandbox's users.
    practices, _providers = build_practices(random.Random(settings.sandbox_seed))
    password_hash = hash_password(settings.demo_password.get_secret_value())
    engine = create_db_engine(settings.resolved_database_url)
    created: list[User] = []
    existing: list[User] = []
    try:
        migrate_engine(engine)
        with create_session_factory(engine)() as db:
            for person in build_users(practices):
                found = find_user(db, person.username)
                if found is not None:
                    existing.append(to_user(found))
                    continue
                record = create_user(
                    db,
                    user_id=person.id,
                    username=person.username,
                    display_name=person.display_name,
                    roles=person.roles,
                    practice_ids=person.practice_ids,
                    password_hash=password_hash,
                )
                created.append(to_user(record))
    finally:
        engine.dispose()
    return created, existing


def _users_table(title: str, users: list["User"]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("username", "name", "roles", "practices"):
        table.add_column(column)
    for user in users:
        table.add_row(
            user.username,
            user.display_name,
            ", ".join(r.value for r in user.roles),
            ", ".join(user.practice_ids),
        )
    return table


@app.command()
def create(
    username: Annotated[str, typer.Option(help="Sign-in name (case-insensitive, unique)")],
    role: Annotated[list[str], typer.Option(help="Biller, Coder, Admin or Service; repeat for several")],
    practice: Annotated[list[str] | None, typer.Option(help="A practice id the user sees; repeat")] = None,
    display_name: Annotated[str, typer.Option(help="Name shown in the web UI")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="A service account that never signs in with a password")
    ] = False,
) -> None:
    """Create a user; the password is prompted for unless --password-stdin or --no-password."""
    from api.security.passwords import WeakPasswordError, hash_password
    from api.storage.db import create_db_engine, create_session_factory
    from api.storage.migrate import migrate_engine
    from api.storage.users import UsernameTakenError, create_user, to_user
    from billing.practice import Role
    from billing.settings import get_settings

    try:
        roles: list[Role] = [Role(value.capitalize()) for value in role]
    except ValueError:
        console.print(f"[red]Unknown role in {role}; use {', '.join(r.value for r in Role)}.[/red]")
        raise typer.Exit(2) from None
    password: str | None = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif not no_password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        password_hash = hash_password(password) if password is not None else None
    except WeakPasswordError as exc:
        console.print(f"[red]{exc}.[/red]")
        raise typer.Exit(2) from None
    settings = get_settings()
    engine = create_db_engine(settings.resolved_database_url)
    try:
        migrate_engine(engine)
        with create_session_factory(engine)() as db:
            record = create_user(
                db,
                username=username,
                display_name=display_name,
                roles=roles,
                practice_ids=practice or [],
                password_hash=password_hash,
            )
            user = to_user(record)
    except UsernameTakenError as exc:
        console.print(f"[red]{exc}.[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    console.print(_users_table("Created", [user]))


@app.command("seed-demo")
def seed_demo() -> None:
    """Create the demo staff of the sandbox practices (password FOVEA_DEMO_PASSWORD); skips existing ones."""
    from billing.settings import get_settings

    created, existing = seed_demo_users(get_settings())
    if created:
        console.print(_users_table("Created", created))
    if existing:
        console.print(f"Already there: {', '.join(user.username for user in existing)}.")


@app.command("list")
def list_(
    practice: Annotated[str | None, typer.Option(help="Only users of this practice")] = None,
) -> None:
    """The copilot's users, their roles and practices."""
    from api.storage.db import create_db_engine, create_session_factory
    from api.storage.migrate import migrate_engine
    from api.storage.users import list_users, to_user
    from billing.settings import get_settings

    engine = create_db_engine(get_settings().resolved_database_url)
    try:
        migrate_engine(engine)
        with create_session_factory(engine)() as db:
            users = [to_user(r) for r in list_users(db, practice_ids=[practice] if practice else None)]
    finally:
        engine.dispose()
    console.print(_users_table("Users", users))
