"""The chat eval's practice: a generated sandbox served on loopback, the app's storage and the real workflows."""

import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from api.chat_runtime import ChatRuntime, standard_workflows
from api.features import FeatureGate
from api.reviews import ReviewService, WorkflowRegistry
from api.storage.db import create_db_engine, create_session_factory
from api.storage.migrate import migrate_engine
from billing.settings import Settings
from sandbox.app import create_app as create_sandbox_app
from sandbox.dataset import SyntheticDataset
from sandbox.db import create_sandbox_engine, create_schema
from sandbox.generator import generate_dataset
from sandbox.store import load_dataset

SEED = 7
PATIENTS = 60
STARTUP_SECONDS = 20.0
# The slice of ICD-10-CM the eval's diagnosis questions need (the full eye-care index takes minutes to embed).
ICD10_SLICE = re.compile(r"^(H25|H26|H40|H04|H10|H35|H43|E11\.3)")


@dataclass
class ChatPractice:
    dataset: SyntheticDataset
    settings: Settings
    runtime: ChatRuntime
    sessions: sessionmaker[Session]
    reviews: ReviewService
    sandbox_url: str


@contextmanager
def _serve(app: object) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="eval-sandbox")
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the eval sandbox did not start")
        time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def chat_practice(
    base: Settings, *, seed: int = SEED, patients: int = PATIENTS, actions: bool = True
) -> Iterator[ChatPractice]:
    """Generate the practice, serve it, and wire a ChatRuntime as the API does (in a temporary data dir)."""
    folder = Path(tempfile.mkdtemp(prefix="fovea-chat-eval-"))
    dataset = generate_dataset(seed, patients)
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, folder, True)
        sandbox_engine = create_sandbox_engine(f"sqlite:///{folder / 'sandbox.db'}")
        stack.callback(sandbox_engine.dispose)
        create_schema(sandbox_engine)
        load_dataset(sandbox_engine, dataset)
        settings = base.model_copy(
            update={"data_dir": folder / "var", "database_url": "", "checkpoint_url": "", "chroma_url": ""}
        )
        url = stack.enter_context(_serve(create_sandbox_app(settings, engine=sandbox_engine)))
        settings = settings.model_copy(update={"crystalpm_base_url": url})
        engine = create_db_engine(settings.resolved_database_url)
        stack.callback(engine.dispose)
        migrate_engine(engine)
        sessions = create_session_factory(engine)
        reviews = ReviewService(sessions, WorkflowRegistry(), FeatureGate(sessions))
        workflows = standard_workflows(settings, sessions, reviews) if actions else None
        runtime = ChatRuntime(
            settings, sessions=sessions, workflows=workflows, today=lambda: dataset.generated_through
        )
        from knowledge.vectorstore import ingest_icd10_index, ingest_policies, open_chroma

        chroma = open_chroma(settings)
        ingest_policies(chroma)
        ingest_icd10_index(chroma, scope=ICD10_SLICE)
        runtime.warm()
        yield ChatPractice(dataset, settings, runtime, sessions, reviews, url)
