"""HTTP helpers of the runs' tests: the frontend's calls, one function each."""

from __future__ import annotations

from http import HTTPStatus

from django.test import Client

from tests.practice.workers import wait_for


def post(client: Client, path: str, body: dict):
    return client.post(path, body, content_type="application/json")


def say(client: Client, thread_id: str, text: str) -> None:
    response = post(client, f"/api/threads/{thread_id}/messages", {"role": "user", "content": text})
    assert response.status_code == HTTPStatus.CREATED, response.content


def start_run(client: Client, thread_id: str, **ids: object) -> str:
    response = post(client, "/api/threads/run", {"thread_id": thread_id, **ids})
    assert response.status_code == HTTPStatus.CREATED, response.content
    assert response.json()["status"] == "queued"
    return response.json()["run_id"]


def run_status(client: Client, run_id: str, thread_id: str) -> dict:
    response = client.get(f"/api/runs/{run_id}/status?thread_id={thread_id}")
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def finished(client: Client, run_id: str, thread_id: str, *watched) -> dict:
    final = ("completed", "failed", "expired", "cancelled")
    return wait_for(
        lambda: (body := run_status(client, run_id, thread_id))["status"] in final and body,
        f"run {run_id} to finish",
        *watched,
    )


def transcript(client: Client, thread_id: str) -> list[tuple[str, str]]:
    response = client.get(f"/api/threads/{thread_id}/messages")
    assert response.status_code == HTTPStatus.OK
    return [(m["role"], m["message"]) for m in response.json()]
