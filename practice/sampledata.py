"""Ready-made practice content for the quick start and demos (SPEC-practice §6).

Four scenarios with full case sheets (two in English, two in Simplified Chinese) that work with
the scripted engines, a rubric modelled on the Calgary–Cambridge guide to the medical interview
(its six parts, each criterion with marking instructions and evidence phrasings in both
languages), and one activity per scenario. Fictional patients.

``load_practice_samples`` is idempotent: a row that exists (same scenario text, category name,
criterion name within its category, activity pre-brief for its scenario) is left as it is, so
an instructor's later edits survive a rerun of the quick start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from practice.casesheet import validate_case
from practice.models import Activity, Category, RubricQuestion, Scenario, SubCategory, Tag


def _fact(topic: str, answer: str, *questions: str, volunteer: bool = False) -> dict[str, Any]:
    return {"topic": topic, "answer": answer, "questions": list(questions), "volunteer": volunteer}


# ---------------------------------------------------------------- scenarios

CHEST_PAIN = {
    "patient": {"name": "Margaret Hill", "age": 67, "sex": "F"},
    "opening": "Hello doctor. I've had this pain in my chest since yesterday.",
    "unknown_answer": "I'm not sure, I'm afraid.",
    "empathy_answer": "Thank you, that's kind. I have been quite frightened.",
    "hidden": {"diagnosis": "pulmonary embolism"},
    "facts": [
        _fact(
            "presenting_complaint",
            "It's a pain on the right side of my chest, and I get out of breath very easily.",
            "what brings you in",
            "what's the problem",
            volunteer=True,
        ),
        _fact("site", "Here, on the right side, below the breast.", "where is the pain"),
        _fact(
            "onset",
            "It came on suddenly yesterday evening while I was watching television.",
            "when did it start",
            "how did it begin",
        ),
        _fact(
            "character",
            "It's sharp, like a knife, and it catches me when I breathe in.",
            "what does it feel like",
            "describe the pain",
        ),
        _fact("radiation", "No, it stays in the one place.", "does it go anywhere else"),
        _fact(
            "associated_symptoms",
            "I'm breathless walking to the bathroom, and this morning I coughed up a little blood.",
            "any other symptoms",
            "any cough",
            "are you short of breath",
        ),
        _fact("timing", "It's there all the time, worse with each breath.", "is it constant"),
        _fact(
            "exacerbating",
            "Taking a deep breath or coughing makes it much worse.",
            "what makes it worse",
        ),
        _fact(
            "relieving",
            "Sitting still and breathing shallowly helps a little. Paracetamol did nothing.",
            "what makes it better",
            "have you taken anything for it",
        ),
        _fact("severity", "About seven out of ten.", "how bad is it", "score out of ten"),
        _fact(
            "past_history",
            "I had my left knee replaced three weeks ago. Otherwise just blood pressure.",
            "any medical problems",
            "any operations",
            "have you been in hospital",
        ),
        _fact(
            "medications",
            "Amlodipine five milligrams in the morning. I stopped the injections they gave me "
            "after the knee operation because they bruised me.",
            "what medicines do you take",
            "any tablets",
        ),
        _fact("allergies", "Penicillin gives me a rash.", "any allergies"),
        _fact(
            "family_history",
            "My sister had a clot in her leg after her second baby.",
            "does anything run in the family",
            "family history",
        ),
        _fact("smoking", "I've never smoked.", "do you smoke"),
        _fact("alcohol", "A glass of sherry at Christmas, that's all.", "do you drink alcohol"),
        _fact("occupation", "I'm a retired primary school teacher.", "what do you do for work"),
        _fact(
            "living_situation",
            "I live with my husband, Alan, in a bungalow.",
            "who do you live with",
            "who's at home",
        ),
        _fact(
            "systems_review",
            "My left calf has been swollen and a bit tender for a few days.",
            "any swelling in your legs",
            "anything else you've noticed",
        ),
        _fact(
            "ideas",
            "I wondered if I'd pulled a muscle, but it doesn't feel like that.",
            "what do you think is causing it",
            "any thoughts about what it might be",
        ),
        _fact(
            "concerns",
            "I'm frightened it's my heart. My father died of a heart attack at seventy.",
            "what worries you",
            "is anything worrying you",
        ),
        _fact(
            "expectations",
            "I'd like to know what it is, and I'd rather not stay in hospital if I can help it.",
            "what are you hoping for today",
            "what would you like us to do",
        ),
        _fact("mood", "I'm anxious, I didn't sleep last night.", "how are you feeling in yourself"),
        _fact(
            "other",
            "We flew back from Australia two weeks ago to see our grandson.",
            "any long journeys",
            "have you travelled recently",
            "any flights",
        ),
    ],
}

TIREDNESS = {
    "patient": {"name": "James Carter", "age": 52, "sex": "M"},
    "opening": "Hi doctor. My wife made me come, I've been so tired lately.",
    "unknown_answer": "Sorry, I don't really know.",
    "empathy_answer": "Thanks. It has been getting me down, to be honest.",
    "hidden": {"diagnosis": "type 2 diabetes mellitus"},
    "facts": [
        _fact(
            "presenting_complaint",
            "I'm exhausted all the time and I'm always thirsty.",
            "what brings you in",
            volunteer=True,
        ),
        _fact(
            "onset",
            "It's crept up over the last three months or so.",
            "when did this start",
            "how long has it been going on",
        ),
        _fact(
            "associated_symptoms",
            "I'm up three or four times a night to pass water, and I've lost about six kilos "
            "without trying.",
            "any other symptoms",
            "are you passing more urine",
            "any weight change",
        ),
        _fact(
            "timing",
            "Worst in the afternoons. I nod off at my desk after lunch.",
            "is it worse at any time of day",
        ),
        _fact("severity", "It's stopping me playing five-a-side football.", "how bad is it"),
        _fact(
            "past_history",
            "High blood pressure, and my cholesterol was borderline last year.",
            "any medical problems",
        ),
        _fact(
            "medications",
            "Ramipril five milligrams once a day.",
            "do you take any medicines",
            "any tablets",
        ),
        _fact("allergies", "None that I know of.", "any allergies"),
        _fact(
            "family_history",
            "My mum had sugar problems and lost a toe in her sixties. Dad had a stroke.",
            "does anything run in the family",
        ),
        _fact("smoking", "I gave up ten years ago. Twenty a day before that.", "do you smoke"),
        _fact(
            "alcohol",
            "Four or five pints at the weekend.",
            "how much alcohol do you drink",
        ),
        _fact(
            "occupation",
            "I'm a long-distance lorry driver, mostly nights.",
            "what do you do for a living",
        ),
        _fact(
            "living_situation",
            "With my wife and our two teenagers.",
            "who do you live with",
        ),
        _fact(
            "systems_review",
            "My vision goes blurry sometimes, and a cut on my foot took ages to heal.",
            "any problems with your eyesight",
            "anything else you've noticed",
        ),
        _fact(
            "ideas",
            "I put it down to the night shifts.",
            "what do you think is going on",
        ),
        _fact(
            "concerns",
            "If it's something serious I could lose my driving licence, and then my job.",
            "what's worrying you",
            "is anything in particular worrying you",
        ),
        _fact(
            "expectations",
            "Maybe a tonic or some vitamins to perk me up.",
            "what were you hoping for today",
        ),
        _fact("mood", "A bit low, and irritable with the kids.", "how is your mood"),
        _fact(
            "other",
            "I drink about three litres of fizzy drinks a day to keep me awake on the road.",
            "what do you drink during the day",
            "what's your diet like",
        ),
    ],
}

HEADACHE_ZH = {
    "patient": {"name": "王丽", "age": 35, "sex": "F"},
    "opening": "医生您好，我头痛三天了。",
    "unknown_answer": "这个我不太清楚。",
    "empathy_answer": "谢谢您，这几天真的挺难受的。",
    "hidden": {"diagnosis": "偏头痛"},
    "facts": [
        _fact(
            "presenting_complaint",
            "头一跳一跳地疼，还想吐。",
            "哪里不舒服",
            "今天来看什么问题",
            volunteer=True,
        ),
        _fact("site", "主要是左边太阳穴这里。", "哪里疼", "具体在什么位置"),
        _fact("onset", "三天前下午开会的时候开始的。", "什么时候开始的", "怎么开始的"),
        _fact("character", "像心跳一样一跳一跳地疼。", "是什么样的疼", "怎么个疼法"),
        _fact("radiation", "有时候会疼到左眼后面。", "会疼到别的地方吗"),
        _fact(
            "associated_symptoms",
            "怕光，怕吵，恶心，吐过一次。开始前眼前有闪光的锯齿。",
            "还有别的不舒服吗",
            "有没有恶心呕吐",
            "看东西有变化吗",
        ),
        _fact("timing", "每次疼大半天，睡一觉会好一些，第二天又来。", "疼多久", "是一直疼吗"),
        _fact("exacerbating", "走动、看手机都会更疼。", "什么情况下会加重"),
        _fact(
            "relieving", "在黑屋子里躺着会好一点。吃了布洛芬有点用。", "怎样会好一些", "吃过药吗"
        ),
        _fact("severity", "疼得厉害的时候有八分。", "有多疼", "打几分"),
        _fact(
            "past_history",
            "以前来月经前后也头痛过，没这么厉害，没看过医生。",
            "以前有过类似情况吗",
            "有什么病史",
        ),
        _fact("medications", "平时不吃药，这次吃了两天布洛芬。", "平时吃什么药"),
        _fact("allergies", "没有过敏。", "对什么药过敏吗", "有过敏吗"),
        _fact("family_history", "我妈妈也经常头痛。", "家里人有类似的情况吗", "家族史"),
        _fact("smoking", "不抽烟。", "抽烟吗"),
        _fact("alcohol", "基本不喝酒。", "喝酒吗"),
        _fact("occupation", "我是银行的客户经理，最近加班很多。", "做什么工作"),
        _fact("living_situation", "和老公还有五岁的女儿一起住。", "和谁一起住"),
        _fact(
            "systems_review",
            "没有发烧，脖子不硬，手脚也没有发麻。",
            "有没有发烧",
            "脖子硬吗",
            "手脚有没有发麻",
        ),
        _fact("ideas", "我觉得可能是太累了，颈椎有问题。", "您觉得是什么原因", "您自己怎么看"),
        _fact(
            "concerns", "我同事去年查出脑瘤，我很怕自己也是。", "您最担心的是什么", "有什么担心吗"
        ),
        _fact("expectations", "我想做个脑部CT看看放心。", "您希望今天我们为您做什么", "有什么期望"),
        _fact("mood", "最近压力挺大的，睡得也不好。", "心情怎么样", "睡眠好吗"),
        _fact("other", "我在吃短效避孕药。", "在吃避孕药吗", "怎么避孕"),
    ],
}

COUGH_ZH = {
    "patient": {"name": "张建国", "age": 58, "sex": "M"},
    "opening": "大夫好，我这咳嗽两个多月了，一直不好。",
    "unknown_answer": "这个我说不好。",
    "empathy_answer": "谢谢大夫，您这么说我心里好受点。",
    "hidden": {"diagnosis": "慢性阻塞性肺疾病"},
    "facts": [
        _fact(
            "presenting_complaint",
            "咳嗽有痰，走快了就喘。",
            "哪里不舒服",
            "今天来看什么",
            volunteer=True,
        ),
        _fact("onset", "入冬以后开始的，两个多月了。", "什么时候开始的", "咳了多久"),
        _fact("character", "早上起来咳得最厉害，有白色的黏痰。", "咳嗽是什么样的", "有痰吗"),
        _fact(
            "associated_symptoms",
            "爬两层楼就喘得不行，晚上有时候胸口发紧。没有咳过血。",
            "还有什么不舒服",
            "喘不喘",
            "咳过血吗",
        ),
        _fact("timing", "早晚咳得多，白天好一点。", "什么时候咳得多"),
        _fact("exacerbating", "天冷、闻到油烟就咳得厉害。", "什么情况下会加重"),
        _fact("relieving", "喝点热水能好一点，吃了止咳糖浆没什么用。", "怎样会好一些", "吃过药吗"),
        _fact("severity", "现在走路都得歇好几次。", "影响日常生活吗", "严重吗"),
        _fact(
            "past_history",
            "这几年每年冬天都咳，有高血压。",
            "以前有什么病",
            "以前有过类似情况吗",
        ),
        _fact("medications", "每天吃一片硝苯地平。", "平时吃什么药"),
        _fact("allergies", "没发现对什么过敏。", "有过敏吗"),
        _fact("family_history", "我父亲有老慢支。", "家里人有类似的病吗"),
        _fact("smoking", "抽了四十年烟，一天一包。", "抽烟吗", "抽多少烟"),
        _fact("alcohol", "晚饭喝二两白酒。", "喝酒吗"),
        _fact("occupation", "在煤矿干了二十年，后来开出租车。", "做什么工作", "以前做过什么工作"),
        _fact("living_situation", "和老伴住在六楼，没有电梯。", "和谁一起住", "住几楼"),
        _fact(
            "systems_review",
            "最近瘦了两三斤，胃口还行，不发烧。",
            "体重有变化吗",
            "发烧吗",
        ),
        _fact("ideas", "我想就是抽烟抽的，老毛病。", "您觉得是什么原因"),
        _fact("concerns", "我怕是肺上长了东西。", "您最担心什么", "有什么担心的"),
        _fact("expectations", "想开点好用的止咳药。", "您希望我们做些什么"),
        _fact("mood", "心里有点烦，觉得自己不中用了。", "心情怎么样"),
        _fact("other", "想过戒烟，试了两次没戒掉。", "想过戒烟吗", "戒过烟吗"),
    ],
}


@dataclass(frozen=True)
class SampleScenario:
    scenario_text: str
    additional_instructions: str
    communication_preferences: str
    role: str
    language: str
    tags: tuple[str, ...]
    rubric_questions: tuple[str, ...]
    case: dict[str, Any]
    pre_brief: str
    categories: tuple[str, ...]


# ---------------------------------------------------------------- the rubric (Calgary–Cambridge)

INITIATING = "Initiating the session / 开始问诊"
GATHERING = "Gathering information / 收集信息"
ICE = "Ideas, concerns and expectations / 想法、担忧与期望"
RELATIONSHIP = "Building the relationship / 建立关系"
EXPLAINING = "Explanation and planning / 解释与计划"
CLOSING = "Closing the session / 结束问诊"
ALL_CATEGORIES = (INITIATING, GATHERING, ICE, RELATIONSHIP, EXPLAINING, CLOSING)

# (category, required to pass, [(criterion, marking instructions, evidence phrasings)])
RUBRIC: tuple[tuple[str, int, tuple[tuple[str, str, tuple[str, ...]], ...]], ...] = (
    (
        INITIATING,
        4,
        (
            (
                "Greets and introduces self / 问候并自我介绍",
                "2: greets the patient and gives both their name and their role. 1: greets, "
                "or gives only a name or only a role. 0: starts without a greeting.",
                (
                    "Hello, my name is Dr Lee, one of the doctors here",
                    "Hi, I'm Sam, a medical student",
                    "您好，我是李医生",
                    "你好，我是实习医生王明",
                ),
            ),
            (
                "Confirms the patient's identity / 核对患者身份",
                "2: asks for the full name and a second identifier (date of birth or address). "
                "1: one of them. 0: neither.",
                (
                    "Can you tell me your full name and date of birth?",
                    "Can I just check your name",
                    "请问您叫什么名字",
                    "您的出生日期是哪天",
                ),
            ),
            (
                "Opens with an open question / 以开放式问题开始",
                "2: asks an open question about the reason for the visit and lets the patient "
                "finish. 1: a closed or leading first question. 0: no question about the "
                "reason for the visit.",
                (
                    "What brings you in today?",
                    "How can I help you today?",
                    "今天哪里不舒服",
                    "有什么可以帮您的",
                ),
            ),
        ),
    ),
    (
        GATHERING,
        4,
        (
            (
                "Explores the problem / 探索主要问题",
                "2: encourages the patient's own account (open questions, 'tell me more') before "
                "focused questions. 1: some open questions, mostly closed ones. 0: closed "
                "questions only.",
                (
                    "Can you tell me more about that?",
                    "Describe the pain for me",
                    "能跟我详细说说吗",
                    "您具体描述一下",
                ),
            ),
            (
                "Clarifies the symptom (SOCRATES) / 明确症状特点",
                "2: asks about at least five of site, onset, character, radiation, associated "
                "symptoms, timing, exacerbating or relieving factors and severity. 1: two to "
                "four. 0: fewer.",
                (
                    "Where exactly is the pain?",
                    "When did it start?",
                    "How bad is it out of ten?",
                    "什么时候开始的",
                    "疼得有多厉害，打几分",
                ),
            ),
            (
                "Covers the background / 了解既往史与社会史",
                "2: asks about past history, medicines, allergies, and family and social history. "
                "1: some of them. 0: none.",
                (
                    "Do you take any regular medicines?",
                    "Do you have any allergies?",
                    "Does anything run in the family?",
                    "平时吃什么药",
                    "抽烟喝酒吗",
                ),
            ),
            (
                "Summarises / 总结",
                "2: summarises what the patient said and invites correction. 1: a partial "
                "summary without checking. 0: no summary.",
                (
                    "Let me just summarise what you've told me",
                    "Have I got that right?",
                    "我总结一下您说的情况",
                    "我理解得对吗",
                ),
            ),
        ),
    ),
    (
        ICE,
        3,
        (
            (
                "Asks about ideas / 询问患者的想法",
                "2: asks what the patient thinks is causing the problem. 1: touches on it "
                "indirectly. 0: not asked.",
                (
                    "What do you think might be causing it?",
                    "Have you had any thoughts about what it could be?",
                    "您觉得是什么原因引起的",
                ),
            ),
            (
                "Asks about concerns / 询问患者的担忧",
                "2: asks what worries the patient and acknowledges the answer. 1: asks without "
                "acknowledging. 0: not asked.",
                (
                    "Is there anything in particular that's worrying you?",
                    "What worries you most?",
                    "您最担心的是什么",
                ),
            ),
            (
                "Asks about expectations / 询问患者的期望",
                "2: asks what the patient hoped for from the visit. 1: implied only. 0: not asked.",
                (
                    "What were you hoping we could do today?",
                    "What would you like to get out of today?",
                    "您希望今天我们能为您做些什么",
                ),
            ),
        ),
    ),
    (
        RELATIONSHIP,
        2,
        (
            (
                "Shows empathy / 表达共情",
                "2: names or acknowledges the patient's feelings at least once, in their own "
                "words. 1: a generic reassurance. 0: none.",
                (
                    "That sounds really difficult",
                    "I can see this has been worrying you",
                    "听起来您这几天一定很难受",
                    "我能理解您的担心",
                ),
            ),
            (
                "Signposts / 过渡提示",
                "2: tells the patient what comes next before changing topic. 1: once, vaguely. "
                "0: never.",
                (
                    "Next I'd like to ask a few questions about your health in general",
                    "I'm going to ask some questions about your family now",
                    "接下来我想问您一些关于平时身体的问题",
                ),
            ),
        ),
    ),
    (
        EXPLAINING,
        2,
        (
            (
                "Explains and checks understanding / 解释并确认理解",
                "2: explains in plain language, in small chunks, and checks understanding. "
                "1: explains without checking. 0: no explanation.",
                (
                    "Does that make sense?",
                    "Can you tell me in your own words what we've discussed?",
                    "这样解释您清楚吗",
                    "您能用自己的话说一下吗",
                ),
            ),
            (
                "Plans together / 共同制定计划",
                "2: proposes a plan and asks the patient's view of it. 1: states a plan only. "
                "0: no plan.",
                (
                    "What I'd suggest is a blood test; how does that sound?",
                    "Shall we decide together what to do next?",
                    "我建议先做个检查，您看可以吗",
                ),
            ),
        ),
    ),
    (
        CLOSING,
        2,
        (
            (
                "Safety-nets / 安全提示",
                "2: says which warning signs should bring the patient back and how urgently. "
                "1: a vague 'come back if worse'. 0: none.",
                (
                    "If the pain gets worse or you become more breathless, call 999 straight away",
                    "Come back if it's not better in a week",
                    "如果情况加重，请马上来急诊或拨打120",
                ),
            ),
            (
                "Checks for anything else and closes / 确认其他问题并结束",
                "2: asks whether there is anything else and ends with agreed next steps. "
                "1: one of them. 0: the consultation just stops.",
                (
                    "Is there anything else you'd like to ask?",
                    "Do you have any other questions for me?",
                    "您还有什么想问的吗",
                ),
            ),
        ),
    ),
)

SCENARIOS: tuple[SampleScenario, ...] = (
    SampleScenario(
        scenario_text=(
            "You are Margaret Hill, a 67-year-old retired teacher who has come to the emergency "
            "department with chest pain and breathlessness since yesterday evening."
        ),
        additional_instructions=(
            "Anxious but polite. Answer only what is asked; do not mention the flight unless "
            "asked about travel."
        ),
        communication_preferences="Prefers plain words; ask one thing at a time.",
        role="Elderly Woman",
        language="en",
        tags=("emergency", "respiratory", "history taking"),
        rubric_questions=(
            "Did the learner ask about recent travel or immobility?",
            "Did the learner explore the patient's worry about her heart?",
            "Did the learner safety-net before ending?",
        ),
        case=CHEST_PAIN,
        pre_brief=(
            "Emergency department. Mrs Hill, 67, has chest pain. Take a focused history, "
            "explore her ideas, concerns and expectations, and close the consultation. "
            "You have ten minutes."
        ),
        categories=ALL_CATEGORIES,
    ),
    SampleScenario(
        scenario_text=(
            "You are James Carter, a 52-year-old lorry driver seeing his GP because his wife "
            "insisted: he has been tired and thirsty for three months."
        ),
        additional_instructions="Slightly dismissive at first; warms up if the doctor is kind.",
        communication_preferences="Direct, no jargon.",
        role="Adult Man",
        language="en",
        tags=("general practice", "endocrine", "ICE"),
        rubric_questions=(
            "Did the learner ask about urinary symptoms and weight loss?",
            "Did the learner find out about the patient's worry about his driving licence?",
        ),
        case=TIREDNESS,
        pre_brief=(
            "General practice. Mr Carter, 52, is tired all the time. Gather the history, "
            "find out what he thinks and fears, and agree a next step with him."
        ),
        categories=(INITIATING, GATHERING, ICE, RELATIONSHIP, CLOSING),
    ),
    SampleScenario(
        scenario_text="你是王丽，35岁，银行客户经理，头痛三天，来神经内科门诊就诊。",
        additional_instructions="说话有些着急，担心自己得了严重的病。只回答被问到的问题。",
        communication_preferences="希望医生说话通俗易懂。",
        role="Adult Woman",
        language="zh-hans",
        tags=("神经内科", "头痛", "问诊"),
        rubric_questions=(
            "学生是否询问了头痛的部位、性质和伴随症状？",
            "学生是否询问了患者的担忧？",
            "学生是否询问了避孕药的使用？",
        ),
        case=HEADACHE_ZH,
        pre_brief="神经内科门诊。王女士，35岁，头痛三天。请完成病史采集，了解她的想法、担忧和期望，并结束问诊。",
        categories=ALL_CATEGORIES,
    ),
    SampleScenario(
        scenario_text="你是张建国，58岁，退休矿工，现开出租车，咳嗽两个多月，来呼吸科门诊就诊。",
        additional_instructions="说话朴实，不太愿意谈戒烟。只回答被问到的问题。",
        communication_preferences="喜欢直来直去。",
        role="Adult Man",
        language="zh-hans",
        tags=("呼吸科", "咳嗽", "吸烟"),
        rubric_questions=("学生是否询问了吸烟史和职业史？", "学生是否进行了安全提示？"),
        case=COUGH_ZH,
        pre_brief="呼吸科门诊。张先生，58岁，咳嗽两个多月。请采集病史，询问吸烟和职业暴露，并和他一起商量下一步。",
        categories=(INITIATING, GATHERING, ICE, RELATIONSHIP, EXPLAINING, CLOSING),
    ),
)


# ---------------------------------------------------------------- loading


@dataclass
class LoadSummary:
    scenarios: int = 0
    categories: int = 0
    criteria: int = 0
    activities: int = 0
    names: list[str] = field(default_factory=list)

    @property
    def created(self) -> int:
        return self.scenarios + self.categories + self.criteria + self.activities


@transaction.atomic
def load_practice_samples() -> LoadSummary:
    """Create whatever of the sample content is missing; leave what exists alone."""
    summary = LoadSummary()
    categories: dict[str, Category] = {}
    for name, required, criteria in RUBRIC:
        category = Category.objects.filter(name=name).order_by("id").first()
        if category is None:
            category = Category.objects.create(name=name, total_required_to_pass=required)
            summary.categories += 1
        categories[name] = category
        for criterion, instructions, evidence in criteria:
            if not SubCategory.objects.filter(category=category, name=criterion).exists():
                SubCategory.objects.create(
                    category=category,
                    name=criterion,
                    marking_instructions=instructions,
                    evidence=list(evidence),
                )
                summary.criteria += 1
    now = timezone.now()
    for sample in SCENARIOS:
        validate_case(sample.case)  # a broken sample is a bug: fail loudly, write nothing
        scenario = (
            Scenario.objects.filter(scenario_text=sample.scenario_text).order_by("id").first()
        )
        if scenario is None:
            scenario = Scenario.objects.create(
                scenario_text=sample.scenario_text,
                additional_instructions=sample.additional_instructions,
                communication_preferences=sample.communication_preferences,
                role=sample.role,
                enable=True,
                openid="",
                case=sample.case,
                language=sample.language,
                created_at=now,
                updated_at=now,
            )
            Tag.objects.bulk_create(Tag(scenario=scenario, tag=t) for t in sample.tags)
            RubricQuestion.objects.bulk_create(
                RubricQuestion(scenario=scenario, question=q) for q in sample.rubric_questions
            )
            summary.scenarios += 1
            summary.names.append(sample.case["patient"]["name"])
        if not Activity.objects.filter(character=scenario, pre_brief=sample.pre_brief).exists():
            activity = Activity.objects.create(character=scenario, pre_brief=sample.pre_brief)
            activity.categories.set([categories[name] for name in sample.categories])
            summary.activities += 1
    if summary.created:
        audit_record(
            action="practice.sample_data",
            outcome="success",
            username="manage.py quickstart",
            object_type="scenario",
            result_count=summary.created,
            detail={
                "scenarios": summary.scenarios,
                "categories": summary.categories,
                "criteria": summary.criteria,
                "activities": summary.activities,
            },
        )
    return summary
