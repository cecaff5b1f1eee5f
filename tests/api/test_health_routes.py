"""/health, /ready, and RFC 9457 problem details for 404, 405, 422 and 500."""

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.storage.migrate import head_revisions
from billing.settings import Settings


def test_health_answers_ok(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_database_is_at_head(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["database"] == "sqlite"
    assert body["revision"] == sorted(head_revisions())
    assert body["worker"] is False


def test_ready_reports_worker_running(settings: Settings) -> None:
    with TestClient(create_app(settings)) as running:
        assert running.get("/ready").json()["worker"] is True


def test_not_ready_when_schema_is_behind_head(client: TestClient) -> None:
    with client.app.state.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000_older'"))
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "0000_older" in response.json()["detail"]


def test_unknown_path_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/no/such/thing?patient=x")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "about:blank"
    assert problem["title"] == "Not Found"
    assert problem["status"] == 404
    assert problem["instance"] == "/no/such/thing"
    assert "/no/such/thing" in problem["detail"]


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    response = client.get("/webhooks/crystalpm")
    assert response.status_code == 405
    assert response.json()["title"] == "Method Not Allowed"
    assert "allow" in response.headers


def test_request_validation_is_a_422_problem_without_input(settings: Settings) -> None:
    app = create_app(settings, start_worker=False)

    @app.get("/probe")
    def probe(visits: int) -> dict[str, int]:
        return {"visits": visits}

    with TestClient(app) as probe_client:
        response = probe_client.get("/probe", params={"visits": "Jane Roe"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["loc"] == ["query", "visits"]
    assert "Jane Roe" not in response.text


def test_unhandled_error_is_a_500_problem_that_leaks_nothing(settings: Settings) -> None:
    app = create_app(settings, start_worker=False)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals at /srv/db password=hunter2")

    with TestClient(app, raise_server_exceptions=False) as boom_client:
        response = boom_client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "Internal Server Error"
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
