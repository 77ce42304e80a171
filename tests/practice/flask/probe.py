"""Send HTTP requests to the product configured by the environment; print the answers as JSON.

The adoption test runs the product against an adopted Flask database in a process of its own
(the environment names the database, as it would in production), so that nothing of the test
runner's own database is involved. Usage: ``python probe.py '[{"method": "POST", "path": ...,
"body": {...}, "token": "..."}]'``; ``"token": "$0.access"`` takes the access token of an
earlier answer.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    import django

    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # lets the test client's host name in, nothing else
    answers: list[dict] = []
    for request in json.loads(sys.argv[1]):
        token = request.get("token", "")
        if token.startswith("$"):
            index, key = token[1:].split(".")
            token = answers[int(index)]["body"][key]
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        client = Client(**headers)
        if request["method"] == "GET":
            response = client.get(request["path"])
        else:
            response = client.generic(
                request["method"],
                request["path"],
                json.dumps(request.get("body", {})),
                content_type="application/json",
            )
        answers.append({"status": response.status_code, "body": response.json()})
    print(json.dumps(answers))


if __name__ == "__main__":
    main()
