"""Schemathesis against /openapi.json: generated requests, signed in, never a server error."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from test_web_support import shared_workspace, test_client_class
from whereabouts.web import create_app

test_client_class()  # import starlette's TestClient once, quietly, before schemathesis does


def _no_report(workspace: Any, case_ref: str, out: Any) -> dict[str, Any]:
    (out / "report.html").write_text("<html></html>")
    return {"html": out / "report.html"}


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    fx = shared_workspace(tmp_path_factory.mktemp("web"))
    app = create_app(fx.workspace, report_writer=_no_report, login_attempts=10_000)
    client = test_client_class()(app)
    r = client.post("/api/session", json={"username": "ivy", "password": fx.password})
    assert r.status_code == 200
    return {
        "app": app,
        "cookie": client.cookies.get("wa_session"),
        "csrf": r.json()["csrf_token"],
        "ref": fx.case_ref,
        "occasion": fx.occasion_ids[0],
    }


def test_api_never_answers_with_a_server_error(web: dict[str, Any]) -> None:
    """Every operation, a bounded number of generated requests each, as a signed-in investigator."""
    api = schemathesis.openapi.from_asgi("/openapi.json", web["app"])
    failures: list[str] = []
    seen: list[str] = []
    statuses: list[int] = []
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        if operation.path == "/api/session" and operation.method.upper() == "DELETE":
            continue  # signing out would end the session the other examples use
        seen.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def check(case: Any) -> None:
            # Generated path ids rarely name a real case: send each example twice, as
            # generated and with the real case and occasion, so the handlers' insides run too.
            generated = dict(case.path_parameters or {})
            for real in (False, True):
                if real:
                    if not generated:
                        return
                    case.path_parameters = {
                        **generated,
                        **{
                            k: v
                            for k, v in (("ref", web["ref"]), ("occasion_id", web["occasion"]))
                            if k in generated
                        },
                    }
                send(case)

        def send(case: Any) -> None:
            response = case.call(
                cookies={"wa_session": web["cookie"]}, headers={"X-CSRF-Token": web["csrf"]}
            )
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path}: {response.status_code} "
                    f"{response.text[:200]}"
                )
            elif (
                response.status_code >= 400
                and "json" in str(response.headers.get("content-type"))
                and not response.json().get("message")
            ):
                failures.append(f"{case.method} {case.formatted_path}: refusal without a message")

        check()
    assert len(seen) >= 15, seen
    assert sum(200 <= s < 300 for s in statuses) >= 30, sorted(set(statuses))
    assert not failures, "\n".join(failures[:20])
