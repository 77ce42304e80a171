"""Consultation skills in Simplified Chinese: the scripted grader's vocabulary. Data only.

Same shape as ``skills_en`` (the skills, their components and the rules for a full score are
defined there; this module gives the Chinese ``mentions``, ``cues`` and ``rewrite`` of each).
Patterns are regular expressions over the text with spaces removed; ``…`` is up to eight
characters. Components that reuse the patient's topics (ideas, concerns, expectations) and the
empathy vocabulary take their cues from ``patient_zh``.
"""

SKILLS: dict[str, dict] = {
    "introduction": {
        "mentions": (
            "自我介绍",
            "介绍自己",
            "身份",
            "核对",
            "确认…(姓名|名字)",
            "出生日期",
            "问候",
            "打招呼",
            "知情同意",
            "同意",
            "许可",
        ),
        "components": {
            "self": {
                "mention": ("自我介绍", "介绍自己", "姓名和(身份|职责|角色)", "问候", "打招呼"),
                "cues": (
                    "我是…(医生|大夫|学生|实习|护士|规培|住院医|主治|见习)",
                    "我叫",
                    "我姓",
                    "我(来|会)(负责|给|为)(您|你)",
                ),
                "rewrite": "您好，我是李医生，是负责您的医生之一。",
            },
            "identity": {
                "mention": ("身份", "核对", "确认…(姓名|名字)", "出生日期"),
                "cues": (
                    "(确认|核对)…(姓名|名字|身份|出生|信息)",
                    "(您|你)(叫|的名字|的姓名|贵姓)",
                    "(怎么|如何)称呼",
                    "出生(日期|年月)",
                    "(您|你)是…(先生|女士|阿姨|叔叔|大爷|奶奶)(吗|对吧)",
                ),
                "rewrite": "能先跟您核对一下您的全名和出生日期吗？",
            },
            "consent": {
                "mention": ("知情同意", "同意", "许可", "目的"),
                "cues": (
                    "(可以|能)(问|了解)(您|你)?(几个|一些)问题",
                    "(可以|方便)吗",
                    "(您|你)(介意|同意)",
                    "(行吗|好吗|可以吗)$",
                ),
                "rewrite": "我想问您几个问题，了解一下您的情况，可以吗？",
            },
        },
    },
    "open_questions": {
        "mentions": ("开放(式|性)?(问题|提问)", "开放"),
        "components": {
            "open": {
                "mention": ("开放",),
                "cues": (
                    "(说说|讲讲|谈谈|描述|介绍)",
                    "(怎么|怎样)(了|回事|样)",
                    "什么情况",
                    "(哪里|哪儿)不舒服",
                    "(您|你)(觉得|感觉)(怎么样|如何)",
                    "能(多)?(说|讲)(一下|一点|点)",
                    "发生了什么",
                    "(具体|详细)(说|讲)",
                ),
                "rewrite": "能用您自己的话跟我说说最近发生了什么吗？",
            },
        },
    },
    "ice": {
        "mentions": ("ICE", "想法", "看法", "担心", "顾虑", "担忧", "期望", "期待", "患者的观点"),
        "components": {
            "ideas": {
                "mention": ("想法", "看法", "ICE", "认识"),
                "rewrite": "您自己觉得可能是什么原因引起的？",
            },
            "concerns": {
                "mention": ("担心", "顾虑", "担忧", "ICE"),
                "rewrite": "您最担心的是什么？",
            },
            "expectations": {
                "mention": ("期望", "期待", "希望", "ICE"),
                "rewrite": "您今天希望我们为您做些什么？",
            },
        },
    },
    "empathy": {
        "mentions": ("共情", "同理", "情绪", "感受", "情感", "安慰", "关怀", "体贴", "融洽"),
        "components": {
            "empathy": {
                "mention": ("共情", "同理"),
                "cues": ("(这|那)(一定|肯定)", "能理解"),
                "rewrite": "听起来这段时间您真的很难受，您担心也是完全可以理解的。",
            },
        },
    },
    "signposting": {
        "mentions": ("(路标|指引|引导)(式)?", "过渡", "结构", "告知(接下来|下一步)"),
        "components": {
            "signpost": {
                "mention": ("路标", "指引", "过渡"),
                "cues": (
                    "(接下来|下面|现在|然后|首先|先)(我)?(想|要|会|来|再)?(问|了解|谈|说|看|检查)",
                    "我(想|要|会)(再)?(问|了解)(您|你)?(一些|几个)",
                    "(换|转)(个|一个)?(话题|方面)",
                    "在…之前",
                ),
                "rewrite": "接下来我想问您一些关于整体健康状况的问题，可以吗？",
            },
        },
    },
    "summarising": {
        "mentions": ("总结", "归纳", "概括", "复述"),
        "components": {
            "summary": {
                "mention": ("总结", "归纳", "概括", "复述"),
                "cues": (
                    "(总结|归纳|概括)(一下)?",
                    "(刚才|之前)(您|你)(说|提到|讲)",
                    "(所以|那么)(您|你)(是|的|从|有|说)",
                    "我(来)?(整理|梳理|复述)",
                    "(如果|要是)我(没)?理解(得)?(对|正确|没错)",
                ),
                "rewrite": "我来总结一下：您从昨天开始胸痛，吸气时会加重。",
            },
            "check": {
                "mention": ("核实", "确认", "准确"),
                "cues": (
                    "(对|是)(吗|不对|吧)$",
                    "(对不对|是不是这样|没错吧|我说得对吗)",
                    "(有没有|还有什么)(遗漏|漏掉|补充|说错)",
                    "(理解|说)得?(对|正确)(吗)",
                    "(需要|要)补充",
                ),
                "rewrite": "我说得对吗？有没有什么遗漏的？",
            },
        },
    },
    "understanding": {
        "mentions": ("理解", "明白", "复述", "回授", "清楚", "术语"),
        "components": {
            "check": {
                "mention": ("理解", "明白", "回授"),
                "cues": (
                    "(明白|清楚|理解)(了)?(吗|没有|不)",
                    "(听|讲|说)(得)?(明白|清楚|懂)(吗|了吗)",
                    "(有|还有)(什么|没有)?(问题|疑问)(吗)?",
                    "(能|可以)…(复述|说一遍|讲一遍|用自己的话)",
                    "(这样|这么)(说|讲|解释)(可以|行)吗",
                    "(懂|听懂)了吗",
                ),
                "rewrite": "为了确认我解释清楚了，您能用自己的话跟我说说我们刚才谈的内容吗？",
            },
        },
    },
    "safety_netting": {
        "mentions": ("安全网", "危险信号", "红旗", "警示", "何时(就医|复诊|回来)", "复诊指导"),
        "components": {
            "condition": {
                "mention": ("安全网", "危险信号", "警示", "加重"),
                "cues": (
                    "(如果|万一|要是|一旦|假如)…(加重|严重|更|没有好转|不好转|不缓解|出现|变化|复发|持续|发烧|气短|晕)",
                    "(有|出现)…(情况|症状)(的话|时)",
                ),
                "rewrite": "如果疼痛加重、出现气短或头晕，请马上拨打120或直接来急诊。",
            },
            "action": {
                "mention": ("就医", "复诊", "回来", "联系"),
                "cues": (
                    "(马上|立即|立刻|及时|尽快)",
                    "(急诊|120|就医|复诊|回来|联系我们|打电话|看医生|来医院)",
                ),
                "rewrite": "出现这些情况请马上回来或打电话联系我们。",
            },
        },
    },
    "closing": {
        "mentions": ("结束", "收尾", "结尾", "下一步", "随访", "道别"),
        "components": {
            "questions": {
                "mention": ("问题", "其他"),
                "cues": (
                    "(还有|有没有)(什么|别的|其他|其它)(问题|想问|想说|想了解|需要|要补充)",
                    "(还有|有)(什么)?(问题|疑问)(吗|要问)",
                ),
                "rewrite": "在结束之前，您还有什么想问或者想说的吗？",
            },
            "plan": {
                "mention": ("计划", "下一步", "随访"),
                "cues": (
                    "(下一步|接下来|之后|稍后)",
                    "(计划|安排|随访|复查)",
                    "我(会|去|们会)(跟|和|找|请|安排|给|把)",
                    "(检查|化验|抽血|心电图|拍片|CT)",
                ),
                "rewrite": "接下来我会和上级医生商量，给您安排一些检查，然后再来告诉您结果。",
            },
            "farewell": {
                "mention": ("感谢", "道别"),
                "cues": ("(谢谢|感谢)", "(再见|慢走|保重|祝您早日康复|早日康复)"),
                "rewrite": "谢谢您今天跟我聊这么多，请多保重。",
            },
        },
    },
}

TOPIC_MENTIONS: dict[str, tuple[str, ...]] = {
    "presenting_complaint": ("主诉", "就诊原因", "主要症状"),
    "site": ("部位",),
    "onset": ("起病", "发病时间", "开始时间", "起始"),
    "character": ("性质",),
    "radiation": ("放射",),
    "associated_symptoms": ("伴随症状",),
    "timing": ("持续时间", "时间规律", "频率"),
    "exacerbating": ("加重因素",),
    "relieving": ("缓解因素",),
    "severity": ("严重程度", "疼痛评分"),
    "past_history": ("既往史", "既往病史", "过去史"),
    "medications": ("用药", "药物史"),
    "allergies": ("过敏",),
    "family_history": ("家族史",),
    "smoking": ("吸烟", "抽烟"),
    "alcohol": ("饮酒", "喝酒"),
    "occupation": ("职业", "工作"),
    "living_situation": ("居住", "生活情况"),
    "systems_review": ("系统回顾",),
    "mood": ("情绪", "心理", "心情"),
}
TOPIC_GROUPS: dict[str, tuple[str, ...]] = {
    "socrates": ("SOCRATES", "疼痛(病史|特点|特征)", "现病史"),
    "social_history": ("社会史", "个人史", "生活习惯"),
}
TOPIC_REWRITES: dict[str, str] = {
    "presenting_complaint": "您今天来主要是哪里不舒服？",
    "site": "具体是哪个部位痛？",
    "onset": "这是什么时候开始的？",
    "character": "能描述一下是什么样的痛吗？",
    "radiation": "疼痛会传到别的地方吗？",
    "associated_symptoms": "还有没有其他不舒服的症状？",
    "timing": "是一直痛，还是一阵一阵的？",
    "exacerbating": "有什么情况会让它加重吗？",
    "relieving": "有什么办法能让它缓解吗？",
    "severity": "如果0到10分，您给疼痛打几分？",
    "past_history": "您以前有过什么疾病或者做过手术吗？",
    "medications": "您现在在吃什么药吗？",
    "allergies": "您对什么药物或者食物过敏吗？",
    "family_history": "家里人有类似的疾病吗？",
    "smoking": "您抽烟吗？",
    "alcohol": "您平时喝酒吗？喝多少？",
    "occupation": "您是做什么工作的？",
    "living_situation": "您平时和谁一起住？",
    "systems_review": "最近体重、胃口、大小便有没有变化？",
    "ideas": "您自己觉得可能是什么原因引起的？",
    "concerns": "您最担心的是什么？",
    "expectations": "您今天希望我们为您做些什么？",
    "mood": "最近心情怎么样？",
}
