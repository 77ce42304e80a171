"""Assessments of conversations against an activity's rubric (SPEC-practice §4 "Assessment").

``selectors`` reads the rubric as the engines see it and finds the conversation a transcript
belongs to; ``services`` grades, checks the engine's answer, stores every attempt.
"""
