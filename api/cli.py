"""The `fovea` command line: a Typer root that mounts one light module per command group.

Command modules import only typer/rich/stdlib at module level; heavy libraries (torch,
sentence-transformers, chromadb, langchain) are imported inside the commands so that
`fovea --help` stays instant.
"""

import typer

from api.commands import (
    audit,
    chat,
    coding,
    contracts,
    evals,
    ingest,
    knowledge,
    knowledge_import,
    remit,
    sandbox,
    scrub,
    service,
    train,
    users,
    worklists,
)

app = typer.Typer(
    name="fovea",
    help="Fovea: an offline-first billing copilot for optometry practices on Crystal PM (not affiliated).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(knowledge.check_app, name="check")
app.add_typer(knowledge_import.app, name="knowledge")
app.add_typer(contracts.app, name="contract")
app.add_typer(users.app, name="users")
app.add_typer(coding.app, name="code")
app.add_typer(evals.app, name="eval")
app.add_typer(remit.app, name="remit")
app.add_typer(worklists.app, name="worklist")
app.add_typer(scrub.app, name="scrub")
app.add_typer(train.app, name="train")
app.add_typer(audit.app, name="audit")
app.command("ask")(chat.ask)
app.command("chat")(chat.chat)
app.command("ingest")(ingest.ingest)
app.command("run")(service.run)
app.command("serve")(service.serve)


if __name__ == "__main__":
    app()
