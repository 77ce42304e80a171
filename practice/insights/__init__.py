"""What instructors follow: assessments with their overrides, per-activity analytics, the
agreement of automatic scores with instructors' judgements, and exports (SPEC-practice §5).

``scoring`` is pure arithmetic; ``selectors`` reads; ``services`` writes (overrides)."""
