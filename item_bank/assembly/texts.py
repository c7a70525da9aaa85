"""Bilingual (en, zh) wording of blueprint requirements, for teachers reading an Infeasible error."""

from __future__ import annotations

from item_bank.assembly.model import Section

Pair = tuple[str, str]

_TYPE_ZH = {
    "single_choice": "单选题",
    "multiple_choice": "多选题",
    "true_false": "判断题",
    "fill_blank": "填空题",
    "numeric": "数值题",
    "short_answer": "简答题",
    "essay": "作文/论述题",
    "matching": "匹配题",
    "ordering": "排序题",
    "inline_choice": "行内选择题",
}
_BOUND = {"min": ("at least", "至少"), "max": ("at most", "至多")}


def type_zh(t: str) -> str:
    return _TYPE_ZH.get(t, t)


def types_label(types: tuple[str, ...]) -> Pair:
    if not types:
        return "", ""
    return " " + "/".join(types), "/".join(type_zh(t) for t in types)


def kp_label(name: str, types: tuple[str, ...]) -> Pair:
    en_t, zh_t = types_label(types)
    return f"items{en_t} on {name}", f"“{name}”的{zh_t}题目" if zh_t else f"“{name}”的题目"


def type_label(t: str) -> Pair:
    return f"{t} items", type_zh(t)


def band_label(name: str, low: float, high: float) -> Pair:
    return f"{name} items (p {low:g}-{high:g})", f"{name}难度段（通过率 {low:g}-{high:g}）的题目"


def section_count(sec: Section) -> Pair:
    en_t, zh_t = types_label(sec.types)
    return (f"section “{sec.name}” needs exactly {sec.count}{en_t} items",
            f"大题“{sec.name}”需要恰好 {sec.count} 道{zh_t or '题'}")


def count(what: Pair, bound: str, n: float) -> Pair:
    en_b, zh_b = _BOUND[bound]
    return f"{en_b} {n:g} {what[0]}", f"{zh_b} {n:g} 道{what[1]}"


def points(what: Pair, bound: str, n: float) -> Pair:
    en_b, zh_b = _BOUND[bound]
    return f"{en_b} {n:g} points of {what[0]}", f"{what[1]}{zh_b} {n:g} 分"


def share(what: Pair, bound: str, s: float) -> Pair:
    en_b, zh_b = _BOUND[bound]
    return f"{en_b} {s:.0%} of the score from {what[0]}", f"{what[1]}{zh_b}占总分的 {s:.0%}"


def once() -> Pair:
    return "each item used at most once", "每道题最多使用一次"


def fixed(item_id: int) -> Pair:
    return f"item {item_id} must be included", f"必须包含第 {item_id} 题"


def total_score(t: float) -> Pair:
    return f"a total score of exactly {t:g}", f"总分恰好 {t:g} 分"


def mean(m: float, tol: float) -> Pair:
    return (f"a mean difficulty (proportion correct) of {m:g} ± {tol:g}",
            f"平均难度（通过率）为 {m:g} ± {tol:g}")


def time_budget(t: float) -> Pair:
    return f"a time budget of {t / 60:g} minutes", f"限时 {t / 60:g} 分钟"


def enemies(ids: tuple[int, ...] | None) -> Pair:
    if ids is None:
        return "no two items from the same enemy set", "同一互斥组的题目不能同时出现"
    return f"at most one of items {list(ids)}", f"题目 {list(ids)} 最多选一道"


def info(theta: float, target: float, dev: float) -> Pair:
    return (f"test information {target:g} ± {dev:g} at ability {theta:g}",
            f"能力值 {theta:g} 处的测验信息量为 {target:g} ± {dev:g}")
