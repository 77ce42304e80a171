#!/usr/bin/env python3
"""The practice data of the class-at-once benchmark, written into the benchmark database.

    .venv/bin/python bench/practice/class_setup.py --learners 200 --out FILE.json

Run with the product's interpreter and settings (DB_* / DATABASE_URL say which database; the
benchmark only points it at ``mip_bench_*``). Idempotent where it can be: the sample scenarios,
rubric and activities are loaded if missing (``practice.sampledata``), the learners
``class_learner_NNN`` are created once. Every call makes each learner a fresh conversation on
the first English activity and a fresh bearer token, so that each measured round starts from
the same short transcript.

Writes JSON: the learners' tokens and thread ids, the questions they ask (the case sheet's own
example questions, which the patient answers from its facts), and the chat-completions body the
``openai`` engine sends for such a question (system instructions of ``practice.engines.prompts``
and the transcript), so that the benchmark can time the model server's own first token with
the request the product makes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(os.environ.get("MIP_PRODUCT_DIR") or Path(__file__).resolve().parents[2])
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--learners", type=int, default=200)
    ap.add_argument("--out", required=True, help="JSON file to write")
    args = ap.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import transaction
    from django.test import RequestFactory

    from accounts.models import Role, User
    from accounts.services import _issue
    from practice.conversations.context import patient_context
    from practice.conversations.services import conversation_create
    from practice.engines import prompts
    from practice.engines.base import Turn
    from practice.engines.openai import _chat_messages
    from practice.models import Activity
    from practice.sampledata import load_practice_samples

    load_practice_samples()
    activity = next(
        a
        for a in Activity.objects.select_related("character").order_by("id")
        if a.character is not None and a.character.enable and a.character.language == "en"
    )
    scenario = activity.character
    questions = [q for fact in scenario.case.get("facts", []) for q in fact.get("questions", [])]
    questions = [q[0].upper() + q[1:] + ("" if q.endswith("?") else "?") for q in questions]
    if not questions:
        raise SystemExit(f"scenario {scenario.pk} has no example questions")

    request = RequestFactory().post("/api/v1/auth/login", REMOTE_ADDR="127.0.0.1")
    learners = []
    with transaction.atomic():
        for i in range(args.learners):
            username = f"class_learner_{i:03d}"
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, email=f"{username}@bench.invalid", role=Role.LEARNER)
                user.set_unusable_password()  # signed in by the token below, never by a password
                user.save()
            conversation = conversation_create(user=user, activity_id=activity.pk)
            learners.append(
                {
                    "username": username,
                    "token": _issue(user, request=request).access,
                    "thread_id": conversation.thread_id,
                }
            )

    from django.conf import settings

    instructions = prompts.patient_instructions(patient_context(scenario=scenario))
    direct_body = {
        "model": settings.OPENAI_MODEL,
        "messages": _chat_messages(instructions, [Turn(role="user", content=questions[0])]),
        "stream": True,
    }
    Path(args.out).write_text(
        json.dumps(
            {
                "activity_id": activity.pk,
                "scenario_id": scenario.pk,
                "questions": questions,
                "learners": learners,
                "direct_body": direct_body,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    print(json.dumps({"learners": len(learners), "activity_id": activity.pk, "out": args.out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
