"""``manage.py serve_openai_compatible``: the built-in OpenAI-compatible server.

Answers ``/v1/chat/completions`` and ``/v1/responses`` with the scripted patient and grader,
so that the ``openai`` engine can be tried with no key and no network::

    python manage.py serve_openai_compatible --port 8011
    PRACTICE_PATIENT_ENGINE=openai OPENAI_BASE_URL=http://127.0.0.1:8011/v1 OPENAI_API_KEY=any ...

The fault options make it a bad model server on purpose (counts: the next N requests, -1
every request).
"""

from __future__ import annotations

import argparse

from django.core.management.base import BaseCommand, CommandError

from practice.engines.compat_server import CompatServer, Faults


def _pace(value: str) -> tuple[float, int, float]:
    try:
        first, chunks, seconds = value.split(",")
        return float(first), int(chunks), float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError("expected FIRST_TOKEN_SECONDS,CHUNKS,SECONDS") from None


class Command(BaseCommand):
    help = "Serve an OpenAI-compatible API (chat completions, responses) played by the scripted engines."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
        )
        parser.add_argument(
            "--port", type=int, default=8011, help="port (default 8011; 0: any free port)"
        )
        parser.add_argument(
            "--model",
            action="append",
            default=[],
            metavar="NAME",
            help="a model name to answer to (repeatable; default: any name)",
        )
        parser.add_argument(
            "--control",
            action="store_true",
            help="also serve the fault API under /_control/ (faults, reset, hold, release, "
            "wait_held, requests) for tests that run this server in another process",
        )
        faults = parser.add_argument_group(
            "faults (counts: the next N requests; -1: every request)"
        )
        faults.add_argument(
            "--rate-limit", type=int, default=0, metavar="N", help="answer 429 with Retry-After"
        )
        faults.add_argument(
            "--retry-after",
            type=float,
            default=1.0,
            metavar="SECONDS",
            help="the 429's Retry-After (default 1)",
        )
        faults.add_argument("--server-error", type=int, default=0, metavar="N", help="answer 500")
        faults.add_argument(
            "--malformed-json",
            type=int,
            default=0,
            metavar="N",
            help="answer text that is cut-off JSON",
        )
        faults.add_argument(
            "--malformed-body",
            type=int,
            default=0,
            metavar="N",
            help="answer a body that is not JSON",
        )
        faults.add_argument(
            "--drop-stream",
            type=int,
            default=0,
            metavar="N",
            help="close the connection mid-stream",
        )
        faults.add_argument(
            "--first-token-delay",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="wait before the first token",
        )
        faults.add_argument(
            "--pace", type=_pace, metavar="FIRST,CHUNKS,SECONDS",
            help="first token after FIRST s, then the answer in CHUNKS chunks over SECONDS s",
        )  # fmt: skip

    def handle(self, *args: object, **options: object) -> None:
        faults = Faults(
            rate_limit=options["rate_limit"],
            retry_after=options["retry_after"],
            server_error=options["server_error"],
            malformed_json=options["malformed_json"],
            malformed_body=options["malformed_body"],
            drop_stream=options["drop_stream"],
            first_token_delay=options["first_token_delay"],
        )
        if options["pace"]:
            faults.first_token_delay, faults.chunks, faults.stream_seconds = options["pace"]
        try:
            server = CompatServer(
                options["host"],
                options["port"],
                models=options["model"] or None,
                faults=faults,
                control=options["control"],
            )
        except OSError as error:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {error}"
            ) from None
        self.stdout.write(
            f"Serving an OpenAI-compatible API at {server.base_url} "
            "(set OPENAI_BASE_URL to it; any API key). Ctrl-C stops it."
        )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
