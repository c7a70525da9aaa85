"""Every API error in the reader's language.

An error body keeps its stable ``error`` code and English ``detail`` (what is wrong and where, for
logs and developers) and gains ``message``: a sentence for a person, in the request's language
(``?lang=``, the ``lang`` cookie, then Accept-Language; default zh, as on the pages). One ASGI
middleware adds it to every JSON error response, whichever part of the app produced it (exception
handlers, the strict-JSON and body-size middlewares), so no code path can forget it.

:data:`MESSAGES` holds one entry per error code; a code without one (a new error class nobody
translated yet) still gets a localised sentence by its HTTP status. A test walks every error
class of the app and its libraries and fails on a missing entry.
"""

from __future__ import annotations

import json
from typing import Any, Final

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exam_server.web.i18n import choose_lang

MESSAGES: Final[dict[str, tuple[str, str]]] = {  # code: (zh, en)
    # requests
    "BadRequest": ("请求有误。", "The request is not valid."),
    "MalformedJSON": ("请求内容不是有效的 JSON。", "The request body is not valid JSON."),
    "ValidationError": ("有字段填写不正确，请检查后重试。",
                        "A field is not filled in correctly; check it and try again."),
    "InvalidNumber": ("有数字无效（不能是 NaN、无穷大或过大的数）。",
                      "A number is not valid (NaN, infinity or too large)."),
    "ValueOutOfRange": ("有数值超出可保存的范围。", "A value is too large to store."),
    "PayloadTooLarge": ("上传或提交的内容过大。", "What was sent is too large."),
    "LimitExceeded": ("超过了允许的数量或长度。", "A limit on size or count was exceeded."),
    "AnswerTooLarge": ("答案过长，未能保存。", "The answer is too long to save."),
    "Unprocessable": ("请求无法处理。", "The request cannot be processed."),
    "MethodNotAllowed": ("不支持此操作。", "This operation is not supported here."),
    "HTTPError": ("请求未能完成。", "The request could not be completed."),
    "NotFound": ("找不到该内容，或您无权查看。", "Not found, or not yours to see."),
    "Conflict": ("操作与当前状态冲突，请刷新后重试。", "This conflicts with the current state; reload and try again."),
    "InternalError": ("服务器出错，已记录，请稍后重试。", "The server failed; it has been logged. Try again later."),
    "SchemaOutOfDate": ("数据库版本与程序不一致，请联系管理员。",
                        "The database is out of date; contact the administrator."),
    # signing in and permissions
    "Unauthenticated": ("请先登录。", "Please sign in."),
    "TokenExpired": ("登录已过期，请重新登录。", "Your session has expired; please sign in again."),
    "InvalidToken": ("登录凭证无效，请重新登录。", "Your sign-in is not valid; please sign in again."),
    "TooManyAttempts": ("尝试次数过多，请稍后再试。", "Too many attempts; try again later."),
    "Forbidden": ("您没有权限执行此操作。", "You are not allowed to do this."),
    "RoleNotAllowed": ("您的角色不能执行此操作。", "Your role may not do this."),
    "NotYours": ("只能修改自己的内容。", "You may only change what is yours."),
    "PasswordChangeRequired": ("请先修改初始密码。", "Please change your initial password first."),
    # exams and attempts
    "StaleSave": ("另一个窗口已保存了更新的答案。", "Another window saved a newer answer."),
    "AttemptClosed": ("考试已结束，之前保存的答案已保留。", "The exam has ended; answers saved before are kept."),
    "ExamNotOpen": ("考试不在开放时间内。", "The exam is not open now."),
    # rosters, printing, scanning
    "BadRoster": ("名单文件有误。", "The roster file has errors."),
    "RosterHasErrors": ("名单中有错误行，请先更正。", "Some roster rows have errors; correct them first."),
    "PrintingUnavailable": ("打印暂不可用（缺少中文字体）。", "Printing is unavailable (no Chinese font installed)."),
    "ScanLayoutInvalid": ("答题卡版式文件有误。", "The answer-sheet layout is not valid."),
    # marking
    "MarkingRefused": ("阅卷操作被拒绝。", "This marking action was refused."),
    "TaskLeasedElsewhere": ("这份答卷已分给其他阅卷老师。", "This script is assigned to another marker."),
    "InvalidScore": ("分数无效（超出满分或不是给分步长的倍数）。",
                     "The score is not valid (above full marks, or not on the score step)."),
    "InvalidMark": ("评分无效。", "The mark is not valid."),
    "IllegalMove": ("当前状态下不能进行此操作。", "This step is not allowed in the current state."),
    # proctoring
    "ProctoringHold": ("监考暂不允许作答。", "Proctoring does not allow answers right now."),
    "ProctoringPaused": ("监考老师已暂停本场考试，恢复后可继续作答。",
                         "A proctor has paused your exam; you can answer again once it resumes."),
    "CheckInRequired": ("请先阅读并同意监考告知，完成身份核验后再作答。",
                        "Accept the proctoring notice and check your identity before answering."),
    "ManualCheckPending": ("请稍候，监考老师正在人工核验您的身份。",
                           "Please wait: a proctor is checking your identity by hand."),
    "ConsentRequired": ("请先阅读并同意监考告知。", "Accept the proctoring notice first."),
    "PhotoRefused": ("照片不可用（须为 JPEG/PNG，且只含一张人脸）。",
                     "The photo cannot be used (it must be a JPEG/PNG with exactly one face)."),
    # items, papers, assembly
    "UnknownItemType": ("未知的题型。", "Unknown question type."),
    "InvalidDefinition": ("题目内容不完整或有误。", "The question is incomplete or not valid."),
    "InvalidResponse": ("答案格式不正确。", "The answer is not in the expected form."),
    "ResponseTooLarge": ("答案过长。", "The answer is too long."),
    "ItemNotFound": ("找不到该题目。", "Question not found."),
    "KnowledgePointNotFound": ("找不到该知识点。", "Knowledge point not found."),
    "ItemFrozen": ("题目已被考试使用，修改将生成新版本。",
                   "The question is used by an exam; changes make a new version."),
    "PaperInvalid": ("试卷结构有误。", "The paper is not valid."),
    "AssemblyError": ("组卷失败。", "The paper could not be assembled."),
    "BlueprintInvalid": ("组卷蓝图有误。", "The blueprint is not valid."),
    "Infeasible": ("题库中的题目不足以满足组卷要求。", "The bank does not hold enough questions for this blueprint."),
    "SolverFailed": ("组卷计算未能完成，请放宽要求后重试。",
                     "Assembly could not finish; relax the requirements and try again."),
}

_BY_STATUS: Final[dict[int, tuple[str, str]]] = {
    400: MESSAGES["BadRequest"], 401: MESSAGES["Unauthenticated"], 403: MESSAGES["Forbidden"],
    404: MESSAGES["NotFound"], 409: MESSAGES["Conflict"], 413: MESSAGES["PayloadTooLarge"],
    422: MESSAGES["Unprocessable"], 429: MESSAGES["TooManyAttempts"],
}
_SERVER = ("服务暂时不可用，请稍后重试。", "The service is unavailable; try again later.")


def message_for(code: str, status: int, lang: str) -> str:
    zh, en = MESSAGES.get(code) or _BY_STATUS.get(status) or (_SERVER if status >= 500 else MESSAGES["BadRequest"])
    return en if lang == "en" else zh


def localise(body: Any, status: int, lang: str) -> Any:
    if isinstance(body, dict) and isinstance(body.get("error"), str) and "message" not in body:
        return {**body, "message": message_for(body["error"], status, lang)}
    return body


class LocalisedErrorsMiddleware:
    """Adds ``message`` to JSON error bodies (status >= 400); everything else passes untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def send_localised(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400 and _is_json(message):
                held["start"] = message
                return
            if "start" not in held or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await _send_rewritten(send, held["start"], b"".join(chunks), choose_lang(Request(scope))[0])

        await self.app(scope, receive, send_localised)


def _is_json(start: Message) -> bool:
    return any(name.lower() == b"content-type" and value.startswith(b"application/json")
               for name, value in start.get("headers", []))


async def _send_rewritten(send: Send, start: Message, raw: bytes, lang: str) -> None:
    try:
        body = json.dumps(localise(json.loads(raw), start["status"], lang), ensure_ascii=False).encode()
    except ValueError:
        body = raw  # not JSON after all: pass it on as it came
    headers = [(n, v) for n, v in start.get("headers", []) if n.lower() != b"content-length"]
    await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
