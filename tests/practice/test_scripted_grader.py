"""The scripted grader (SPEC-practice §4, §6): each criterion 0/1/2 from its marking
instructions, evidence phrasings and the built-in skills vocabulary; evidence indices on the
learner's messages only; verbatim quotes; a rewrite exactly where the score is below 2; the
rubric questions; both languages; determinism."""

import pytest

from practice.engines.base import Category, Criterion, Turn, compose_result
from practice.engines.scripted import ScriptedGrader

SKILLS = (
    Category(
        1,
        "Consultation skills",
        12,
        (
            Criterion(
                1,
                "Introduction",
                "Introduces self by name and role and confirms the patient's identity.",
            ),
            Criterion(2, "Open questions", "Uses open questions."),
            Criterion(3, "ICE", "Explores the patient's ideas, concerns and expectations."),
            Criterion(4, "Empathy", "Responds to the patient's emotions with empathy."),
            Criterion(5, "Signposting", "Signposts changes of topic."),
            Criterion(6, "Summary", "Summarises and checks accuracy."),
            Criterion(7, "Understanding", "Checks the patient's understanding."),
            Criterion(8, "Safety-netting", "Gives safety-netting advice."),
            Criterion(9, "Closing", "Closes the consultation."),
        ),
    ),
    Category(
        2,
        "History",
        3,
        (
            Criterion(10, "Travel", "", ("Have you travelled recently?",)),
            Criterion(11, "Smoking and alcohol", "Asks about smoking and alcohol."),
            Criterion(12, "Diet", "Asks about the patient's diet and exercise habits."),
        ),
    ),
)
TRANSCRIPT = (
    Turn(
        "user", "Hello, I'm Dr Lee, one of the doctors. Can I confirm your name and date of birth?"
    ),
    Turn("assistant", "Margaret Hill, 3rd May 1958."),
    Turn("user", "What brings you in today? Tell me more about it."),
    Turn("assistant", "Chest pain. I'm scared. Do you smoke, doctor?"),
    Turn(
        "user",
        "I'm sorry to hear that, that must be frightening. What are you worried it might be?",
    ),
    Turn("assistant", "My heart."),
    Turn(
        "user",
        "I'd now like to ask a few questions about your general health. Have you been on any long trips?",
    ),
    Turn("assistant", "Australia."),
    Turn("user", "So to summarise, you've had chest pain since yesterday. Is that right?"),
    Turn("assistant", "Yes."),
    Turn(
        "user",
        "Does that make sense? If the pain gets worse or you feel faint, call 999 straight away. "
        "Any other questions? We'll arrange a scan.",
    ),
    Turn("assistant", "No."),
)


def grade(rubric=SKILLS, transcript=TRANSCRIPT, language: str = "en") -> dict:
    grading = ScriptedGrader().assess(rubric, transcript, language=language)
    return {s.subcategory_id: s for s in grading.scores}


def test_every_criterion_is_scored_in_rubric_order() -> None:
    grading = ScriptedGrader().assess(SKILLS, TRANSCRIPT)
    assert [s.subcategory_id for s in grading.scores] == list(range(1, 13))
    assert (grading.engine, grading.model) == ("scripted", "scripted-grader")
    assert grading.prompt_version == ScriptedGrader.prompt_version


@pytest.mark.parametrize(
    ("criterion", "score", "indices", "quotes"),
    [
        (
            1,
            2,
            (0,),
            (
                "Hello, I'm Dr Lee, one of the doctors.",
                "Can I confirm your name and date of birth?",
            ),
        ),
        (2, 2, (2,), ("What brings you in today?", "Tell me more about it.")),
        (3, 1, (4,), ("What are you worried it might be?",)),
        (4, 2, (4,), ("I'm sorry to hear that, that must be frightening.",)),
        (5, 1, (6,), ("I'd now like to ask a few questions about your general health.",)),
        (6, 2, (8,), ("So to summarise, you've had chest pain since yesterday.", "Is that right?")),
        (7, 1, (10,), ("Does that make sense?",)),
        (8, 2, (10,), ("If the pain gets worse or you feel faint, call 999 straight away.",)),
        (9, 2, (10,), ("Any other questions?", "We'll arrange a scan.")),
        (10, 2, (6,), ("Have you been on any long trips?",)),
        (12, 0, (), ()),
    ],
)
def test_each_skill_is_scored_with_its_evidence(
    criterion: int, score: int, indices: tuple, quotes: tuple
) -> None:
    result = grade()[criterion]
    assert (result.score, result.message_indices, result.quotes) == (score, indices, quotes)


def test_a_rewrite_is_suggested_exactly_where_the_score_is_below_two() -> None:
    results = grade()
    assert results[3].rewrite_if_missing == (
        "What do you think might be causing this? What were you hoping we could do for you today?"
    )
    assert results[7].rewrite_if_missing == (
        "Just so I know I've explained things clearly, could you tell me in your own words "
        "what we've discussed?"
    )
    for result in results.values():
        assert (result.rewrite_if_missing is None) == (result.score == 2)


def test_the_patients_words_are_never_evidence() -> None:
    # The patient asks "Do you smoke, doctor?"; the learner never asks about smoking.
    result = grade()[11]
    assert (result.score, result.message_indices, result.quotes) == (0, (), ())
    assert result.rewrite_if_missing == "Do you smoke? How much alcohol do you drink in a week?"


def test_evidence_points_at_learner_messages_sorted_once_with_verbatim_quotes() -> None:
    for result in grade().values():
        assert list(result.message_indices) == sorted(set(result.message_indices))
        assert all(TRANSCRIPT[i].role == "user" for i in result.message_indices)
        for quote in result.quotes:
            assert any(quote in TRANSCRIPT[i].content for i in result.message_indices)


def test_a_partly_asked_history_scores_one_and_the_rewrite_names_what_is_missing() -> None:
    transcript = (Turn("user", "Do you smoke?"), Turn("assistant", "No."))
    result = grade(transcript=transcript)[11]
    assert (result.score, result.message_indices, result.quotes) == (1, (0,), ("Do you smoke?",))
    assert result.rewrite_if_missing == "How much alcohol do you drink in a week?"


def test_a_criterion_graded_on_its_evidence_phrasings_alone() -> None:
    rubric = (Category(1, "History", 1, (Criterion(1, "Pets", "", ("Do you keep any birds?",)),)),)
    asked = grade(rubric, (Turn("user", "Any pet birds at home?"), Turn("assistant", "A parrot.")))
    assert (asked[1].score, asked[1].quotes) == (2, ("Any pet birds at home?",))
    missed = grade(rubric, (Turn("user", "Do you smoke?"), Turn("assistant", "No.")))
    assert (missed[1].score, missed[1].rewrite_if_missing) == (0, "Do you keep any birds?")


def test_a_transcript_without_learner_messages_scores_zero_everywhere() -> None:
    results = grade(transcript=(Turn("assistant", "Hello doctor, I'm so sorry to bother you."),))
    assert {r.score for r in results.values()} == {0}
    assert all(r.message_indices == () and r.quotes == () for r in results.values())


def test_the_same_transcript_always_gives_the_same_grading() -> None:
    first = ScriptedGrader().assess(SKILLS, TRANSCRIPT)
    again = ScriptedGrader().assess(SKILLS, list(TRANSCRIPT))
    assert first == again


def test_the_result_composes_into_the_contracts_arithmetic() -> None:
    result = compose_result(SKILLS, ScriptedGrader().assess(SKILLS, TRANSCRIPT))
    assert [(c["category_id"], c["score"], c["passed"]) for c in result["categories"]] == [
        (1, 15, True),
        (2, 2, False),
    ]
    assert result["overall"] == {"total_score": 17, "passed": False}


# --- Chinese ---------------------------------------------------------------------------------

SKILLS_ZH = (
    Category(
        1,
        "沟通",
        4,
        (
            Criterion(
                1, "自我介绍与身份核对", "介绍自己的姓名和身份，并核对患者的姓名和出生日期。"
            ),
            Criterion(2, "想法、担心和期望", "了解患者的想法、担心和期望。"),
            Criterion(3, "共情", "回应患者的情绪，表达共情。"),
            Criterion(4, "安全网", "告知病情加重时怎么办以及何时就医。"),
            Criterion(5, "个人史", "询问吸烟和饮酒。"),
        ),
    ),
)
TRANSCRIPT_ZH = (
    Turn("user", "您好，我是李医生。"),
    Turn("assistant", "医生好。"),
    Turn("user", "听起来一定很难受。您最担心的是什么？"),
    Turn("assistant", "担心是心脏的问题。"),
    Turn("user", "您抽烟吗？喝酒吗？"),
    Turn("assistant", "都不。"),
    Turn("user", "如果疼痛加重或者喘不上气，请马上拨打120。"),
    Turn("assistant", "好的。"),
)


def test_a_chinese_transcript_is_graded_with_chinese_rewrites() -> None:
    results = grade(SKILLS_ZH, TRANSCRIPT_ZH, "zh-hans")
    assert (results[1].score, results[1].quotes) == (1, ("您好，我是李医生。",))
    assert (
        results[1].rewrite_if_missing == "能先跟您核对一下您的全名吗？再跟您核对一下出生日期好吗？"
    )
    assert (results[2].score, results[2].message_indices) == (1, (2,))
    assert (
        results[2].rewrite_if_missing
        == "您自己觉得可能是什么原因引起的？您今天希望我们为您做些什么？"
    )
    assert (results[3].score, results[3].quotes) == (1, ("听起来一定很难受。",))
    assert (results[4].score, results[4].rewrite_if_missing) == (2, None)
    assert (results[5].score, results[5].message_indices) == (2, (4,))
    assert results[5].quotes == ("您抽烟吗？", "喝酒吗？")


def test_the_rewrite_follows_the_transcripts_language() -> None:
    transcript = (Turn("user", "你好。"), Turn("assistant", "你好。"))
    rubric = (Category(1, "History", 1, (Criterion(1, "Smoking", "Asks about smoking."),)),)
    assert grade(rubric, transcript, "en")[1].rewrite_if_missing == "您抽烟吗？"
    english = (Turn("user", "Hello."), Turn("assistant", "Hi."))
    assert grade(rubric, english, "zh-hans")[1].rewrite_if_missing == "Do you smoke?"


# --- rubric questions ------------------------------------------------------------------------


def test_each_rubric_question_gets_a_score_and_one_or_two_sentences_of_feedback() -> None:
    questions = [
        "Did the student introduce themselves?",
        "Did the student ask about smoking?",
        "Did the student explore the patient's concerns?",
    ]
    grading = ScriptedGrader().evaluate_questions(questions, TRANSCRIPT)
    assert [(e.question, e.score) for e in grading.evaluations] == [
        (questions[0], 2),
        (questions[1], 0),
        (questions[2], 2),
    ]
    assert grading.evaluations[0].feedback == (
        'Fully addressed; for example, you said: "Hello, I\'m Dr Lee, one of the doctors."'
    )
    assert grading.evaluations[1].feedback == (
        'Not addressed in this conversation. You could say: "Do you smoke?"'
    )
    assert ScriptedGrader().evaluate_questions([], TRANSCRIPT).evaluations == ()


def test_rubric_question_feedback_is_in_the_transcripts_language() -> None:
    grading = ScriptedGrader().evaluate_questions(
        ["是否询问了吸烟史？", "是否询问了过敏史？"], TRANSCRIPT_ZH, language="zh-hans"
    )
    assert [(e.score, e.feedback) for e in grading.evaluations] == [
        (2, "已充分做到，例如您说过：“您抽烟吗？”。"),
        (0, "本次对话中没有做到。可以这样说：“您对什么药物或者食物过敏吗？”"),
    ]


def test_a_quote_is_a_whole_sentence_even_after_an_abbreviation() -> None:
    rubric = (Category(1, "Opening", 1, (Criterion(1, "Introduction", "Introduces self."),)),)
    transcript = (
        Turn("user", "Good morning.  I'm Dr. Lee, one of the doctors. What brings you in?"),
        Turn("assistant", "Chest pain."),
    )
    result = grade(rubric, transcript)[1]
    assert (result.score, result.quotes) == (2, ("I'm Dr. Lee, one of the doctors.",))


def test_a_criterion_with_no_evidence_list_or_instructions_is_still_graded() -> None:
    rubric = (Category(1, "History", 1, (Criterion(1, "Smoking", None, None),)),)  # type: ignore[arg-type]
    result = grade(rubric, (Turn("user", "Do you smoke?"), Turn("assistant", "No.")))[1]
    assert (result.score, result.quotes) == (2, ("Do you smoke?",))
