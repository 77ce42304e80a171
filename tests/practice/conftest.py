from tests.practice.openai_server import _compat_server_session, compat_server  # noqa: F401
