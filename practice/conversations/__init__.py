"""Conversations with the virtual patient (SPEC-practice §4 threads and runs).

``selectors`` reads (who may see which thread), ``services`` writes (threads, messages, runs,
the worker's production of a reply, expiry), ``context`` builds what the patient is given,
``tasks`` is the django-tasks entry the worker calls.
"""
