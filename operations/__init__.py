"""Operations across the apps, run from ``manage.py``: ``quickstart`` and ``warm_caches``."""
