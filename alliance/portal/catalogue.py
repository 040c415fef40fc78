"""Every string of the portal's interface, in English and Chinese: the one catalogue.

Templates and routes say ``t("key")``; a key missing from a language falls back to
English, and a test checks that every key has both.
"""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT_LANGUAGE = "en"

MESSAGES: dict[str, dict[str, str]] = {
    "portal.title": {"en": "Alliance members' portal", "zh": "联盟成员门户"},
    "nav.home": {"en": "Home", "zh": "首页"},
    "nav.indicators": {"en": "Indicators", "zh": "指标"},
    "nav.submit": {"en": "Submit an indicator", "zh": "提交指标"},
    "nav.skip": {"en": "Skip to content", "zh": "跳到正文"},
    "nav.language": {"en": "Language", "zh": "语言"},
    "auth.sign_in": {"en": "Sign in", "zh": "登录"},
    "auth.sign_out": {"en": "Sign out", "zh": "退出"},
    "auth.signed_in_as": {"en": "Signed in as {name} ({org})", "zh": "已登录：{name}（{org}）"},
    "auth.welcome": {
        "en": "Sign in with your organisation account to see your working groups.",
        "zh": "请使用您所在机构的账户登录，查看您的工作组。",
    },
    "auth.signed_out": {"en": "You have signed out.", "zh": "您已退出。"},
    "auth.failed": {
        "en": "Sign-in did not complete. Please try again.",
        "zh": "登录未完成，请重试。",
    },
    "auth.denied": {"en": "Sign-in was cancelled.", "zh": "登录已取消。"},
    "auth.no_operator": {
        "en": "This instance has no operator organisation yet. Run 'alliance demo' first.",
        "zh": "本实例尚无运营机构。请先运行 'alliance demo'。",
    },
    "error.csrf": {
        "en": "This form expired or did not come from this page. Please try again.",
        "zh": "此表单已过期或并非来自本页面，请重试。",
    },
    "error.not_found": {"en": "Not found.", "zh": "未找到。"},
    "error.forbidden": {"en": "You may not do this.", "zh": "您无权执行此操作。"},
    "error.title": {"en": "Something is not right", "zh": "出现问题"},
    "home.title": {"en": "Your working groups", "zh": "您的工作组"},
    "home.no_groups": {
        "en": "Your organisation has no seat in any working group yet.",
        "zh": "您的机构尚未加入任何工作组。",
    },
    "home.recent_indicators": {"en": "Recent indicators", "zh": "最新指标"},
    "home.none": {"en": "Nothing yet.", "zh": "暂无。"},
    "home.role": {"en": "Role: {role}", "zh": "角色：{role}"},
    "indicators.title": {"en": "Indicators", "zh": "指标"},
    "indicators.filter": {"en": "Filter", "zh": "筛选"},
    "indicators.all": {"en": "All", "zh": "全部"},
    "indicators.count": {"en": "{count} indicators", "zh": "共 {count} 条指标"},
    "indicators.more": {"en": "More", "zh": "更多"},
    "indicators.assertions": {"en": "Assertions", "zh": "断言"},
    "field.type": {"en": "Type", "zh": "类型"},
    "field.value": {"en": "Value", "zh": "值"},
    "field.working_group": {"en": "Working group", "zh": "工作组"},
    "field.tlp": {"en": "TLP", "zh": "TLP"},
    "field.confidence": {"en": "Confidence (0-100)", "zh": "可信度（0-100）"},
    "field.severity": {"en": "Severity", "zh": "严重程度"},
    "field.brands": {"en": "Brands (comma-separated)", "zh": "品牌（逗号分隔）"},
    "field.note": {"en": "Note", "zh": "备注"},
    "field.created": {"en": "Created", "zh": "创建时间"},
    "field.status": {"en": "Status", "zh": "状态"},
    "field.score": {"en": "Score", "zh": "评分"},
    "submit.title": {"en": "Submit an indicator", "zh": "提交指标"},
    "submit.button": {"en": "Submit", "zh": "提交"},
    "submit.preview": {"en": "Normalised value", "zh": "规范化后的值"},
    "submit.created": {"en": "Indicator submitted.", "zh": "指标已提交。"},
    "submit.has_errors": {
        "en": "The indicator was not submitted: correct the fields marked below.",
        "zh": "指标未提交：请更正下面标出的字段。",
    },
    "submit.bad_number": {"en": "must be a whole number", "zh": "必须是整数"},
}


def translate(language: str, key: str, **values: object) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(language) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def translator(language: str) -> Callable[..., str]:
    lang = language if language in LANGUAGES else DEFAULT_LANGUAGE

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    return t
