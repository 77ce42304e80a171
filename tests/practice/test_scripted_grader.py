"""The scripted grader (SPEC-practice §4, §6): scores, evidence, quotes and rewrites."""

from practice.engines.base import Category, Criterion, Turn, compose_result
from practice.engines.scripted import ScriptedGrader

RUBRIC = (
    Category(
        1,
        "Communication",
        4,
        (
            Criterion(
                1,
                "Introduction",
                "Introduces self by name and role and confirms the patient's identity.",
            ),
            Criterion(2, "ICE", "Explores the patient's ideas, concerns and expectations."),
            Criterion(3, "Empathy", "Responds to the patient's emotions with empathy."),
        ),
    ),
    Category(
        2,
        "History",
        2,
        (
            Criterion(4, "Smoking and alcohol", "Asks about smoking and alcohol."),
            Criterion(5, "Safety-netting", "Gives clear safety-netting advice."),
        ),
    ),
)
TRANSCRIPT = (
    Turn("user", "Hello, my name is Dr Lee, I'm one of the doctors. What brings you in?"),
    Turn("assistant", "Hello doctor. I've had this pain in my chest since yesterday."),
    Turn("user", "I'm sorry to hear that. What are you worried it might be? Do you smoke?"),
    Turn("assistant", "I'm worried it's my heart. I gave up ten years ago."),
    Turn("user", "If it gets worse, call 999 straight away."),
)


def test_each_criterion_is_scored_with_evidence_from_the_learner_only() -> None:
    grading = ScriptedGrader().assess(RUBRIC, TRANSCRIPT)
    by_id = {s.subcategory_id: s for s in grading.scores}
    assert [s.subcategory_id for s in grading.scores] == [1, 2, 3, 4, 5]
    assert by_id[1].score == 1
    assert by_id[1].message_indices == (0,)
    assert by_id[1].quotes == ("Hello, my name is Dr Lee, I'm one of the doctors.",)
    assert (
        by_id[1].rewrite_if_missing == "Could you confirm your full name and date of birth for me?"
    )
    assert by_id[4].score == 1
    assert by_id[4].quotes == ("Do you smoke?",)
    assert by_id[5].score == 2
    assert by_id[5].rewrite_if_missing is None
    for score in grading.scores:
        assert all(TRANSCRIPT[i].role == "user" for i in score.message_indices)
        assert list(score.message_indices) == sorted(set(score.message_indices))
        for quote in score.quotes:
            assert any(quote in TRANSCRIPT[i].content for i in score.message_indices)


def test_the_same_transcript_always_gives_the_same_scores() -> None:
    first = ScriptedGrader().assess(RUBRIC, TRANSCRIPT)
    second = ScriptedGrader().assess(RUBRIC, TRANSCRIPT)
    assert first == second
    assert compose_result(RUBRIC, first) == compose_result(RUBRIC, second)


def test_questions_are_evaluated_one_by_one_in_order() -> None:
    grading = ScriptedGrader().evaluate_questions(
        ["Did the student ask about smoking?", "Did the student explore expectations?"], TRANSCRIPT
    )
    assert [(e.question, e.score) for e in grading.evaluations] == [
        ("Did the student ask about smoking?", 2),
        ("Did the student explore expectations?", 0),
    ]
    assert (
        grading.evaluations[0].feedback == 'Fully addressed; for example, you said: "Do you smoke?"'
    )
