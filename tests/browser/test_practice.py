"""Communication practice in a real browser (Playwright + Debian's Chromium, live server), in
English and in Chinese: a learner talks with the patient (replies streamed), ends the
consultation and reads the assessment; an instructor tries a scenario from its form, overrides
a score with a reason and reads the activity's analytics. Screenshots go to docs/screenshots/.

The streaming test holds the built-in model server after its first chunk (a gate, not a sleep)
and sees the first words on the page while the rest of the reply is still held back.
"""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from audit.models import AuditEvent
from practice.models import (
    Activity,
    Assessment,
    Category,
    Message,
    Scenario,
    ScoreOverride,
    SubCategory,
)
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CASES = {
    "en": {
        "patient": {"name": "Margaret Hill", "age": 67, "sex": "F"},
        "opening": "Hello doctor. I've had this pain in my chest since yesterday.",
        "unknown_answer": "I'm not sure, I'm afraid.",
        "empathy_answer": "Thank you, that's kind.",
        "hidden": {"diagnosis": "pulmonary embolism"},
        "facts": [
            {
                "topic": "onset",
                "answer": "It came on suddenly yesterday evening.",
                "questions": ["when did it begin", "when did the pain start"],
                "volunteer": False,
            },
            {
                "topic": "character",
                "answer": "It's sharp, and worse when I breathe in.",
                "questions": ["what does the pain feel like"],
                "volunteer": False,
            },
        ],
    },
    "zh-hans": {
        "patient": {"name": "王秀英", "age": 58, "sex": "F"},
        "opening": "医生您好，我这两天胸口疼。",
        "unknown_answer": "这个我不太清楚。",
        "empathy_answer": "谢谢您，您真好。",
        "hidden": {"diagnosis": "肺栓塞"},
        "facts": [
            {
                "topic": "onset",
                "answer": "昨天晚上突然开始疼的。",
                "questions": ["什么时候开始疼的", "疼了多久了"],
                "volunteer": False,
            },
            {
                "topic": "character",
                "answer": "是刺痛，吸气的时候更厉害。",
                "questions": ["是什么样的疼"],
                "volunteer": False,
            },
        ],
    },
}
SAY = {
    "en": ["Hello, I'm Dr Lee, one of the doctors. What brings you in today?",
           "When did the pain start?", "What does the pain feel like?",
           "That sounds really worrying for you."],
    "zh-hans": ["您好，我是李医生。今天哪里不舒服？", "什么时候开始疼的？", "是什么样的疼？",
                "听起来您一定很担心。"],
}  # fmt: skip


def _course(language: str, make_user: Any) -> dict:
    scenario = Scenario.objects.create(
        scenario_text="Margaret Hill, 67" if language == "en" else "王秀英，58岁",
        role="Elderly Woman",
        language=language,
        case=CASES[language],
    )
    category = Category.objects.create(name="Initiating the session", total_required_to_pass=2)
    SubCategory.objects.create(
        name="Introduces self", category=category,
        marking_instructions="Greets the patient and gives name and role.",
        evidence=["Hello, I'm Dr Lee, one of the doctors", "您好，我是李医生"],
    )  # fmt: skip
    SubCategory.objects.create(
        name="Empathy", category=category,
        marking_instructions="Acknowledges the patient's feelings.",
        evidence=["That sounds really worrying", "您一定很担心"],
    )  # fmt: skip
    activity = Activity.objects.create(pre_brief=f"Chest pain ({language})", character=scenario)
    activity.categories.add(category)
    return {
        "activity": activity,
        "scenario": scenario,
        "learner": make_user(Role.LEARNER),
        "instructor": make_user(Role.INSTRUCTOR),
    }


def _sign_in(page: Any, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click(".login-card button[type=submit]")
    page.wait_for_url("**/practice/")


def _open_chat(page: Any, activity: Any) -> None:
    """Start a consultation and wait until the chat page's script is ready for input."""
    page.click(f"[data-activity='{activity.pk}'] [data-action=start]")
    expect(page).to_have_url(re.compile(r"/practice/conversations/thread_[0-9a-f]+/$"))
    expect(page.locator("#chat[data-ready='1']")).to_be_attached()


def _say(page: Any, text: str) -> None:
    page.fill("#say", text)
    page.press("#say", "Enter")


@pytest.mark.parametrize(("language", "locale"), [("en", "en-US"), ("zh-hans", "zh-CN")])
def test_a_learner_practises_and_an_instructor_reviews(
    language,
    locale,
    new_page,
    user_of,
    shot,
):
    course = _course(language, user_of)
    case = CASES[language]
    page = new_page(locale)
    _sign_in(page, course["learner"].username)
    expect(page.locator("[data-nav=practice]")).to_be_visible()
    expect(page.locator(f"[data-activity='{course['activity'].pk}']")).to_contain_text(
        f"Chest pain ({language})"
    )
    _open_chat(page, course["activity"])
    shot(page, f"practice-chat-empty-{language}")

    _say(page, SAY[language][0])
    replies = page.locator("#transcript .bubble.assistant .text")
    expect(replies.nth(0)).to_contain_text(case["opening"])
    _say(page, SAY[language][1])
    expect(replies.nth(1)).to_have_text(case["facts"][0]["answer"])
    _say(page, SAY[language][2])
    expect(replies.nth(2)).to_have_text(case["facts"][1]["answer"])
    _say(page, SAY[language][3])
    expect(replies.nth(3)).to_have_text(case["empathy_answer"])
    expect(page.locator("#typing")).to_be_hidden()
    # Voice is feature-detected: headless Chromium has no speech service, so typing is offered.
    mic = page.locator("#mic")
    if mic.is_visible():
        mic.click()
    expect(page.locator("#voice-note")).to_be_visible()
    # The page was not reloaded: the transcript is the stored one, in order.
    _replies_stored(page)
    stored = list(Message.objects.order_by("index").values_list("role", "content"))
    assert [r for r, _c in stored] == ["user", "assistant"] * 4
    assert case["hidden"]["diagnosis"] not in " ".join(c for _r, c in stored)
    shot(page, f"practice-chat-{language}")

    page.click("#assess")
    expect(page).to_have_url(re.compile(r"/practice/assessments/\d+/$"))
    expect(page.locator("#overall")).to_be_visible()
    expect(page.locator(".transcript.graded mark").first).to_be_visible()
    shot(page, f"practice-assessment-{language}", full_page=True)
    assessment = Assessment.objects.get()

    # The instructor: try the scenario from its form, override a score, read the analytics.
    teacher = new_page(locale)
    _sign_in(teacher, course["instructor"].username)
    teacher.goto(f"/practice/manage/scenarios/{course['scenario'].pk}/")
    expect(teacher.locator("#try[data-ready='1']")).to_be_attached()
    teacher.fill("#try-say", SAY[language][1])
    teacher.press("#try-say", "Enter")
    expect(teacher.locator("#try-transcript .bubble.assistant .text")).to_have_text(
        case["facts"][0]["answer"]
    )
    shot(teacher, f"practice-authoring-{language}", full_page=True)
    teacher.goto("/practice/attempts/")
    teacher.click(f"a[href='/practice/assessments/{assessment.pk}/']")
    criterion = teacher.locator(".criterion").first
    new_score = "0" if criterion.get_attribute("class").endswith("score-2") else "2"
    criterion.locator("select[name=score]").select_option(new_score)
    criterion.locator("input[name=reason]").fill("Reviewed the recording")
    criterion.locator("button[type=submit]").click()
    expect(teacher.locator(".messages .success")).to_be_visible()
    override = ScoreOverride.objects.get()
    assert override.new_score == int(new_score) and override.reason == "Reviewed the recording"
    assert AuditEvent.objects.filter(
        action="practice.assessment.override", user=course["instructor"]
    ).exists()
    teacher.goto(f"/practice/activities/{course['activity'].pk}/analytics/")
    expect(teacher.locator("#summary")).to_contain_text("1")
    expect(teacher.locator("#criteria-table tbody tr")).to_have_count(2)
    expect(teacher.locator("#distribution-chart")).to_be_visible()
    shot(teacher, f"practice-analytics-{language}", full_page=True)


def test_the_first_words_of_a_reply_appear_while_the_model_still_holds_the_rest(
    new_page,
    user_of,
    settings,
    compat_server,
):
    settings.PRACTICE_PATIENT_ENGINE = "openai"
    settings.OPENAI_BASE_URL = compat_server.base_url
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_MODEL = "practice-scripted"
    compat_server.set_faults(chunks=12)
    course = _course("en", user_of)
    page = new_page()
    _sign_in(page, course["learner"].username)
    _open_chat(page, course["activity"])
    compat_server.hold()
    _say(page, SAY["en"][0])
    expect(page.locator("#typing")).to_be_visible()
    assert compat_server.wait_held(timeout=20), "the model server never sent its first chunk"
    reply = page.locator("#transcript .bubble.assistant .text")
    # The first chunk is on the page while the server holds back the rest of the reply.
    expect(reply).not_to_have_text("")
    first = reply.inner_text()
    assert first and len(first) < len(CASES["en"]["opening"])
    assert CASES["en"]["opening"].startswith(first.strip()[:5])
    assert not Message.objects.filter(role="assistant").exists()
    compat_server.release()
    expect(reply).to_contain_text(CASES["en"]["opening"])
    expect(page.locator("#typing")).to_be_hidden()
    _replies_stored(page)
    assert Message.objects.filter(role="assistant").count() == 1


def _replies_stored(page: Page) -> None:
    """Wait for every reply's ``done`` event (the page then gives its bubble the stored
    message's index): a reply's text is on the page, from its pieces, before it is stored."""
    expect(page.locator("#transcript .bubble.assistant:not([data-index])")).to_have_count(0)


def test_a_failed_reply_shows_an_error_and_the_retry_continues_the_conversation(
    new_page,
    user_of,
    settings,
    compat_server,
):
    settings.PRACTICE_PATIENT_ENGINE = "openai"
    settings.OPENAI_BASE_URL = compat_server.base_url
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_MAX_RETRIES = 0
    course = _course("en", user_of)
    page = new_page()
    _sign_in(page, course["learner"].username)
    _open_chat(page, course["activity"])
    compat_server.set_faults(server_error=1)
    _say(page, SAY["en"][0])
    expect(page.locator("#chat-error")).to_be_visible()
    assert list(Message.objects.values_list("role", flat=True)) == ["user"]
    page.click("#retry")
    expect(page.locator("#transcript .bubble.assistant .text")).to_contain_text(
        CASES["en"]["opening"]
    )
    expect(page.locator("#chat-error")).to_be_hidden()
    _replies_stored(page)
    assert list(Message.objects.order_by("index").values_list("role", flat=True)) == [
        "user",
        "assistant",
    ]
