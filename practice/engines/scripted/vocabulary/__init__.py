"""The scripted engines' built-in vocabularies: data modules anyone can extend.

``patient_en`` / ``patient_zh``: how clinicians greet, show empathy and ask about each
case-sheet topic. ``skills_en`` / ``skills_zh``: how the consultation skills the grader scores
sound in a learner's words, and the suggested sentences it offers where one is missing.
"""
