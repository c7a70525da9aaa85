"""UI strings, one dict per language, and choosing the language of a request.

The same dict feeds the templates and (as a JSON blob) the page scripts, so every visible
string lives here.
"""

from typing import Final

from starlette.requests import Request

Lang = str
LANGS: Final = ("zh", "en")
DEFAULT_LANG: Final = "zh"
COOKIE: Final = "lang"

ZH: Final[dict[str, str]] = {
    "html_lang": "zh-CN",
    "locale": "zh-CN",
    "app_name": "在线考试",
    "switch_label": "English",
    "switch_lang": "en",
    "login_title": "登录",
    "username": "用户名",
    "password": "密码",
    "login_button": "登录",
    "logging_in": "正在登录…",
    "login_failed": "用户名或密码错误",
    "network_error": "无法连接服务器，请检查网络后重试",
    "session_expired": "登录已过期，请重新登录",
    "my_exams": "我的考试",
    "logout": "退出登录",
    "loading": "加载中…",
    "no_exams": "目前没有安排给你的考试。",
    "exam_title": "考试",
    "exam_window": "开放时间",
    "duration": "时长",
    "minutes": "分钟",
    "start_continue": "开始 / 继续",
    "start_exam": "开始考试",
    "continue_exam": "继续作答",
    "attempt_done": "已交卷",
    "your_score": "得分：{score} / {max}",
    "exam_not_open_yet": "尚未开放",
    "exam_closed": "已结束",
    "back_to_exams": "返回考试列表",
    "time_left": "剩余时间",
    "deadline": "截止时间",
    "points": "（{n} 分）",
    "question": "第 {n} 题",
    "blank": "第 {n} 空",
    "answer": "答案",
    "unit": "单位",
    "true": "正确",
    "false": "错误",
    "chars": "{n} / {max} 字",
    "state_unsaved": "未保存",
    "state_saving": "保存中",
    "state_saved": "已保存",
    "state_retrying": "保存失败，重试中",
    "state_rejected": "答案格式无效，未保存",
    "online": "已连接",
    "offline": "连接中断，答案暂存在本机，恢复后自动保存",
    "submit": "交卷",
    "submit_confirm_title": "确认交卷？",
    "submit_confirm_body": "已作答 {answered} / {total} 题。交卷后不能再修改答案。",
    "submit_unsaved_warning": "仍有 {n} 题未能保存到服务器。仍要交卷吗？",
    "cancel": "取消",
    "confirm_submit": "确认交卷",
    "submitting": "正在保存并交卷…",
    "submit_failed": "交卷失败，请重试",
    "submitted_title": "已交卷",
    "submitted_body": "你的答案已提交。成绩发布后可以查看结果。",
    "finished_at": "提交时间",
    "time_up_title": "考试时间到",
    "time_up_body": "考试时间已结束，不能再修改答案。已保存的答案都会保留。",
    "attempt_closed_body": "本次作答已结束，已保存的答案都会保留。",
    "error_title": "无法打开考试",
    "exam_not_open": "考试不在开放时间内",
    "not_on_roster": "你不在本次考试的名单中",
    "exam_missing": "考试不存在",
    "retry": "重试",
}

EN: Final[dict[str, str]] = {
    "html_lang": "en",
    "locale": "en-GB",
    "app_name": "Online Exams",
    "switch_label": "中文",
    "switch_lang": "zh",
    "login_title": "Sign in",
    "username": "Username",
    "password": "Password",
    "login_button": "Sign in",
    "logging_in": "Signing in…",
    "login_failed": "Wrong username or password",
    "network_error": "Cannot reach the server; check your connection and try again",
    "session_expired": "Your session has expired; please sign in again",
    "my_exams": "My exams",
    "logout": "Sign out",
    "loading": "Loading…",
    "no_exams": "No exams are scheduled for you.",
    "exam_title": "Exam",
    "exam_window": "Window",
    "duration": "Duration",
    "minutes": "min",
    "start_continue": "Start / continue",
    "start_exam": "Start",
    "continue_exam": "Continue",
    "attempt_done": "Submitted",
    "your_score": "Score: {score} / {max}",
    "exam_not_open_yet": "Not open yet",
    "exam_closed": "Closed",
    "back_to_exams": "Back to my exams",
    "time_left": "Time left",
    "deadline": "Deadline",
    "points": "({n} pts)",
    "question": "Question {n}",
    "blank": "Blank {n}",
    "answer": "Answer",
    "unit": "Unit",
    "true": "True",
    "false": "False",
    "chars": "{n} / {max} characters",
    "state_unsaved": "Unsaved",
    "state_saving": "Saving",
    "state_saved": "Saved",
    "state_retrying": "Save failed, retrying",
    "state_rejected": "Invalid answer, not saved",
    "online": "Connected",
    "offline": "Connection lost: answers are kept on this device and saved when it returns",
    "submit": "Submit",
    "submit_confirm_title": "Submit your exam?",
    "submit_confirm_body": ("You answered {answered} of {total} questions. "
                            "You cannot change answers after submitting."),
    "submit_unsaved_warning": "{n} answer(s) could not be saved to the server yet. Submit anyway?",
    "cancel": "Cancel",
    "confirm_submit": "Submit now",
    "submitting": "Saving and submitting…",
    "submit_failed": "Submitting failed; please try again",
    "submitted_title": "Submitted",
    "submitted_body": "Your answers have been submitted. You can see the result once it is released.",
    "finished_at": "Submitted at",
    "time_up_title": "Time is up",
    "time_up_body": "The exam time is over; answers can no longer be changed. Every saved answer is kept.",
    "attempt_closed_body": "This attempt is closed. Every saved answer is kept.",
    "error_title": "Cannot open the exam",
    "exam_not_open": "The exam is not open now",
    "not_on_roster": "You are not on this exam's roster",
    "exam_missing": "This exam does not exist",
    "retry": "Retry",
}

STRINGS: Final[dict[Lang, dict[str, str]]] = {"zh": ZH, "en": EN}


def _from_accept_language(header: str) -> Lang | None:
    """The best supported language in an Accept-Language header, by q value then order."""
    ranked: list[tuple[float, int, Lang]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        base = tag.strip().lower().split("-")[0]
        if base not in LANGS:
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, base))
    return min(ranked)[2] if ranked else None


def choose_lang(request: Request) -> tuple[Lang, bool]:
    """The request's language and whether it came from ``?lang=`` (so the cookie should be set)."""
    query = request.query_params.get("lang", "")
    if query in LANGS:
        return query, True
    cookie = request.cookies.get(COOKIE, "")
    if cookie in LANGS:
        return cookie, False
    return _from_accept_language(request.headers.get("accept-language", "")) or DEFAULT_LANG, False
