"""Eligibility: machine-readable conditions on a policy and the ONE evaluator (政策计算器).

Pure functions, no I/O. A policy's `eligibility` list holds conditions {field, op, value, text};
the fields, their types and units come from the taxonomy (`condition_fields`). `region` and
`enterprise_types` on a policy are conditions too. The site's calculator page runs a port of
`evaluate` (policykb/site/assets/calculator.js) on rules exported by `export_rules`; a browser
test keeps the two in step, so change both together.

Verdicts per condition: met / unclear / unmet; per policy: eligible / unclear / ineligible.
A value the profile lacks is unclear, never unmet. Only a current policy can be eligible.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import asdict, dataclass, field

from policykb.content import regions
from policykb.content.diagnostics import ERROR, WARNING, Diagnostic
from policykb.content.statuses import POLICY_STATUS_LABEL, policy_status

TYPES = ("bool", "number", "enum", "date", "years")
OPS = {
    "bool": ("==",),
    "number": (">=", ">", "<=", "<", "==", "!="),
    "years": (">=", ">", "<=", "<", "==", "!="),
    "date": (">=", ">", "<=", "<", "=="),
    "enum": ("in", "not_in", "==", "!="),
}
OP_LABEL = {">=": "不低于", ">": "高于", "<=": "不超过", "<": "低于", "==": "为", "!=": "不为",
            "in": "属于", "not_in": "不属于"}
VERDICT_LABEL = {"eligible": "符合", "unclear": "待确认", "ineligible": "不符合"}
PROFILE_META = ("name", "note", "expected")  # profile keys the evaluator ignores
_NUM = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(\S*?)\s*$")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: str
    unit: str = ""
    values: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"label": self.label, "type": self.type, "unit": self.unit, "values": list(self.values)}


# ---------------------------------------------------------------- field definitions (taxonomy)

def parse_fields(data, lines: dict, shown: str, base: dict) -> tuple[dict, list[Diagnostic]]:
    """`condition_fields:` of taxonomy.yml -> ({name: FieldSpec}, diagnostics). Entries extend
    or replace the defaults in `base` ({name: dict})."""
    out = {n: spec_of(n, d) for n, d in base.items()}
    diags: list[Diagnostic] = []

    def bad(where, msg):
        line = lines.get(where, lines.get(("condition_fields",), 1))
        diags.append(Diagnostic(shown, line, ERROR, "condition-field", msg))

    if not isinstance(data, dict):
        bad(("condition_fields",), "condition_fields 应为 “字段名: {label, type, unit, values}” 的映射。请参照默认分类表书写。")
        return out, diags
    for name, d in data.items():
        where = ("condition_fields", name)
        if not isinstance(d, dict) or not isinstance(d.get("label"), str) or d.get("type") not in TYPES:
            bad(where, f"条件字段 “{name}” 要有 label（中文名称）和 type（{'、'.join(TYPES)} 之一）。请补全。")
            continue
        values = d.get("values") or []
        if d["type"] == "enum" and (not isinstance(values, list) or not values):
            bad(where, f"条件字段 “{name}” 的类型是 enum，要用 values 列出可选值。请补上 values 列表。")
            continue
        out[str(name)] = spec_of(str(name), d)
    return out, diags


def spec_of(name: str, d: dict) -> FieldSpec:
    return FieldSpec(name, str(d.get("label") or name), str(d.get("type")), str(d.get("unit") or ""),
                     tuple(str(v) for v in (d.get("values") or [])))


# ---------------------------------------------------------------- values

def _fmt(v) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (list, tuple)):
        return "、".join(str(x) for x in v)
    return str(v)


def coerce(spec: FieldSpec, raw, *, condition: bool = True):
    """A written value -> (normalised value, problem or None). Numbers may carry the field's unit
    ("800万元"); dates are ISO text; years fields also take a date (counted up to today) in profiles.
    Normalised: bool, float, ISO date text, or a list of enum values."""
    t = spec.type
    if t == "bool":
        if isinstance(raw, bool):
            return raw, None
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false", "是", "否"):
            return raw.strip().lower() in ("true", "是"), None  # as a form (the CMS) writes it
        return None, ("type", "应为 true 或 false")
    if t in ("number", "years"):
        if t == "years" and not condition:  # a profile may give the start date instead
            if isinstance(raw, dt.date):
                return raw.isoformat(), None
            if isinstance(raw, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", raw.strip()):
                try:
                    return dt.date.fromisoformat(raw.strip()).isoformat(), None
                except ValueError:
                    return None, ("type", "不是有效日期")
        if isinstance(raw, bool):
            return None, ("type", "应为数字")
        if isinstance(raw, (int, float)):
            return float(raw), None
        m = _NUM.match(str(raw)) if isinstance(raw, str) else None
        if not m:
            return None, ("type", f"应为数字{('（单位：' + spec.unit + '）') if spec.unit else ''}")
        if m.group(2) and m.group(2) != spec.unit:
            want = f"“{spec.unit}”" if spec.unit else "无单位的数字"
            return None, ("unit", f"单位写的是 “{m.group(2)}”，这个字段的单位是 {want}")
        return float(m.group(1)), None
    if t == "date":
        if isinstance(raw, dt.datetime):
            raw = raw.date()
        if isinstance(raw, dt.date):
            return raw.isoformat(), None
        try:
            return dt.date.fromisoformat(str(raw).strip()).isoformat(), None
        except ValueError:
            return None, ("type", "应为日期，写成 YYYY-MM-DD")
    if t == "enum":
        if isinstance(raw, str):  # 工业制造、软件和信息技术服务 as one text (a form field)
            raw = [x for x in re.split(r"[,，、]", raw) if x.strip()]
        items = raw if isinstance(raw, list) else [raw]
        if not items or not all(isinstance(x, (str, int, float)) and not isinstance(x, bool) for x in items):
            return None, ("type", f"应为可选值之一（{'、'.join(spec.values)}）")
        items = [str(x).strip() for x in items]
        wrong = [x for x in items if x not in spec.values]
        if wrong:
            return None, ("value", f"“{'、'.join(wrong)}” 不是可选值（{'、'.join(spec.values)}）")
        return items, None
    return None, ("type", "字段类型未知")


def years_between(start_iso: str, today: dt.date) -> float:
    d = dt.date.fromisoformat(start_iso)
    return float(today.year - d.year - ((today.month, today.day) < (d.month, d.day)))


# ---------------------------------------------------------------- checking conditions (validator)

def check(policy, taxonomy) -> list[tuple[tuple, str, str, str]]:
    """Problems in a policy's `eligibility` list: [(key path, severity, code, message)].
    The validator turns key paths into `path:line`."""
    specs = taxonomy.condition_fields
    out = []
    bounds: dict[str, list] = {}
    for i, c in enumerate(getattr(policy, "eligibility", None) or []):
        at = ("eligibility", i)
        name = c.field
        if not name:
            out.append((at, ERROR, "eligibility-field", f"条件第 {i + 1} 条没有写 field（条件字段）。"
                        f"请写 {'、'.join(specs)} 之一。"))
            continue
        spec = specs.get(name)
        if spec is None:
            hint = difflib.get_close_matches(name, list(specs), n=1, cutoff=0.6)
            tip = f"是否应为 “{hint[0]}”？" if hint else ""
            out.append((at + ("field",), ERROR, "eligibility-field",
                        f"条件第 {i + 1} 条的字段 “{name}” 不在分类表的 condition_fields 中。{tip}"
                        f"请改为 {'、'.join(specs)} 之一，或先在分类表中增加这个字段。"))
            continue
        if c.op not in OPS[spec.type]:
            out.append((at + ("op",), ERROR, "eligibility-op",
                        f"条件第 {i + 1} 条：{spec.label}（{spec.type}）不能用比较符 “{c.op}”。"
                        f"请改为 {'、'.join(OPS[spec.type])} 之一。"))
            continue
        if c.unit is not None and c.unit != spec.unit:
            out.append((at + ("unit",), ERROR, "eligibility-unit",
                        f"条件第 {i + 1} 条的单位 “{c.unit}” 与字段 {spec.label} 的单位 “{spec.unit}” 不一致。"
                        f"请把数值换算成 {spec.unit or '无单位的数字'} 并改正 unit。"))
            continue
        value, problem = coerce(spec, c.value)
        if problem:
            message = f"条件第 {i + 1} 条的值 “{_fmt(c.value)}”：{problem[1]}。请改正 value。"
            out.append((at + ("value",), ERROR, "eligibility-unit", message) if problem[0] == "unit" else
                       (at + ("value",), ERROR, "eligibility-value", message))
            continue
        why = _impossible(spec, c.op, value)
        if why:
            out.append((at + ("value",), ERROR, "eligibility-impossible",
                        f"条件第 {i + 1} 条 “{spec.label} {c.op} {_fmt(value)}” {why}，没有企业能满足。请核对比较符和数值。"))
            continue
        if spec.type in ("number", "years", "date"):
            bounds.setdefault(name, []).append((i, c.op, value))
        if not c.text:
            out.append((at, WARNING, "eligibility-text",
                        f"条件第 {i + 1} 条没有写 text（给企业看的那句话），网站上会显示自动生成的说明。"
                        f"请按政策原文写一句，例如 “{describe(spec, c.op, value)}”。"))
    for name, items in bounds.items():
        lo = [(v, op, i) for i, op, v in items if op in (">=", ">", "==")]
        hi = [(v, op, i) for i, op, v in items if op in ("<=", "<", "==")]
        for lv, lop, li in lo:
            for hv, hop, hi_i in hi:
                if li != hi_i and (lv > hv or (lv == hv and (lop == ">" or hop == "<"))):
                    out.append((("eligibility", max(li, hi_i), "value"), ERROR, "eligibility-impossible",
                                f"条件第 {li + 1} 条与第 {hi_i + 1} 条对 {specs[name].label} 的要求互相矛盾"
                                f"（{lop} {_fmt(lv)} 且 {hop} {_fmt(hv)}），没有企业能同时满足。请核对数值。"))
    return out


def _impossible(spec: FieldSpec, op: str, v) -> str:
    if spec.type not in ("number", "years"):
        return ""
    if (op in ("<", "<=", "==") and v < 0) or (op == "<" and v == 0):
        return "要求小于 0"
    if spec.unit == "%" and ((op in (">", ">=", "==") and v > 100) or (op == ">" and v == 100)):
        return "要求超过 100%"
    return ""


def describe(spec: FieldSpec, op: str, value) -> str:
    """The generated sentence for a condition without `text`."""
    if spec.type == "bool":
        return f"{spec.label}：{'是' if value else '否'}"
    return f"{spec.label}{OP_LABEL[op]}{_fmt(value)}{spec.unit}"


# ---------------------------------------------------------------- profiles

def check_profile(data: dict, specs: dict, types: list[str] | None = None, *, today: dt.date | None = None,
                  known: list[str] | None = None, table: dict | None = None) -> list[tuple[str, str]]:
    """Problems in a company profile: [(key, Chinese message)]. `types`: the taxonomy's
    enterprise types (a misspelt type would silently never match); `known` (with alias `table`):
    the content's region paths (an unknown region would silently match only national policies);
    `today`: a founding date after it is impossible."""
    out = []
    for key, raw in data.items():
        if key in PROFILE_META or raw is None:
            continue
        if key == "region":
            if not isinstance(raw, str):
                out.append((key, "region（注册地）应为文本，例如 滨海高新区 或 天津市/滨海新区。"))
            elif known is not None and raw.strip() and not any(  # a path under a known region is fine too
                    regions.is_known(lv, known, table) for lv in [raw, *regions.levels(raw)]):
                near = regions.closest(raw, known, table)
                names = sorted({p.split("/")[-1] for p in known if p != regions.NATIONAL}, key=lambda n: (-len(n), n))[:6]
                hint = f"是不是 “{near}”？" if near else ""
                out.append((key, f"内容里没有地区 “{raw.strip()}”，按它计算只会剩下全国性的政策。{hint}"
                                 f"可写地区路径中的任一级或其简称，内容里的地区有：{'、'.join(names) or '（无）'}。"))
        elif key == "enterprise_types":
            if not (isinstance(raw, list) and all(isinstance(x, str) for x in raw)) and not isinstance(raw, str):
                out.append((key, "enterprise_types（企业类型）应为列表，每项一行，以 “- ” 开头。"))
            elif types is not None:
                wrong = [t for t in ([raw] if isinstance(raw, str) else raw) if t.strip() not in types]
                if wrong:
                    out.append((key, f"企业类型 “{'、'.join(wrong)}” 不在分类表中。请改为：{'、'.join(types)}。"))
        elif key in specs:
            value, problem = coerce(specs[key], raw, condition=False)
            problem = problem or _impossible_profile(specs[key], value, today)
            if problem:
                out.append((key, f"{key}（{specs[key].label}）的值 “{_fmt(raw)}”：{problem[1]}。"))
        else:
            out.append((key, f"未知字段 “{key}”。可用的字段：region、enterprise_types、{'、'.join(specs)}。"))
    return out


def _impossible_profile(spec: FieldSpec, value, today: dt.date | None):
    """A well-typed profile value no company can have: a negative count or amount, a share over
    100 %, a founding date after today."""
    if spec.type == "years" and isinstance(value, str):
        if today is not None and value > today.isoformat():
            return ("range", f"成立日期晚于今天（{today.isoformat()}），请核对年份")
        return None
    if spec.type in ("number", "years") and isinstance(value, float):
        if value < 0:
            return ("range", "不能是负数")
        if spec.unit == "%" and value > 100:
            return ("range", "百分比不能超过 100")
    return None


def profile_diagnostics(data: dict, lines: dict, shown: str, specs: dict, types: list[str] | None = None,
                        **context) -> list[Diagnostic]:
    """`check_profile` as diagnostics at the profile file's lines (`policykb eligible`);
    `context`: check_profile's today, known, table."""
    return [Diagnostic(shown, lines.get((key,), 1), ERROR, "bad-profile", message + "请改正后重试。")
            for key, message in check_profile(data, specs, types, **context)]


def normalise_profile(data: dict, specs: dict) -> dict:
    """A checked profile -> plain values (as the page keeps them): region text, list of types,
    each condition field's normalised value. Keys with a problem are dropped."""
    out: dict = {}
    if isinstance(data.get("region"), str) and data["region"].strip():
        out["region"] = data["region"].strip()
    types = data.get("enterprise_types")
    if isinstance(types, str):
        types = [types]
    if isinstance(types, list) and types:
        out["enterprise_types"] = [str(t).strip() for t in types]
    for key, spec in specs.items():
        if data.get(key) is not None:
            value, problem = coerce(spec, data[key], condition=False)
            if not problem:
                out[key] = value
    return out


# ---------------------------------------------------------------- rules (what the page gets too)

def policy_rules(policy, specs: dict, today: dt.date) -> dict:
    """One policy's rules as plain data (JSON-ready). Invalid conditions are left out
    (the validator reports them; a build stops on them)."""
    conditions = []
    for c in getattr(policy, "eligibility", None) or []:
        spec = specs.get(c.field or "")
        if spec is None or c.op not in OPS[spec.type]:
            continue
        value, problem = coerce(spec, c.value)
        if problem:
            continue
        conditions.append({"field": spec.name, "op": c.op, "value": value,
                           "text": c.text or describe(spec, c.op, value)})
    deadline = policy.apply.deadline if policy.apply else None
    return {
        "id": policy.id, "title": policy.display_title, "status": policy.status_on(today),
        "expires": policy.expires.isoformat() if policy.expires else None,
        "region": regions.path(policy.region), "enterprise_types": list(policy.enterprise_types),
        "conditions": conditions, "support": list(policy.support), "summary": policy.summary or "",
        "amount": amount_of(policy.summary or ""),
        "deadline": deadline.isoformat() if isinstance(deadline, dt.date) else (str(deadline) if deadline else None),
    }


_AMOUNT = re.compile(r"(?:最高|最多|累计最高)\s*[\d.]+\s*[万亿]?元")


def amount_of(summary: str) -> str | None:
    """The headline amount of a policy's support, read from its summary (最高…万元)."""
    m = _AMOUNT.search(summary)
    return m.group(0) if m else None


def export_rules(policies, taxonomy, today: dt.date) -> dict:
    """Everything the calculator page needs (no drafts: they are not published)."""
    specs = taxonomy.condition_fields
    rows = [policy_rules(p, specs, today) for p in policies if p.status_on(today) != "draft"]
    used = sorted({lv for r in rows for lv in regions.levels(r["region"]) if r["region"] != regions.NATIONAL})
    return {"today": today.isoformat(), "fields": {n: s.as_dict() for n, s in specs.items()},
            "enterprise_types": list(taxonomy.terms("enterprise_types")), "regions": used, "policies": rows}


# ---------------------------------------------------------------- the evaluator

@dataclass
class ConditionResult:
    text: str
    verdict: str  # met | unclear | unmet
    reason: str


@dataclass
class Result:
    id: str
    title: str
    verdict: str  # eligible | unclear | ineligible
    status: str
    conditions: list[ConditionResult] = field(default_factory=list)
    support: list[str] = field(default_factory=list)
    amount: str | None = None
    summary: str = ""
    deadline: str | None = None
    expires: str | None = None

    @property
    def met(self) -> int:
        return sum(1 for c in self.conditions if c.verdict == "met")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["met"] = self.met
        return d


def _compare(op: str, have, want) -> bool:
    if op == ">=":
        return have >= want
    if op == ">":
        return have > want
    if op == "<=":
        return have <= want
    if op == "<":
        return have < want
    if op == "==":
        return have == want
    if op == "!=":
        return have != want
    raise ValueError(op)


def _condition(c: dict, spec: dict, profile: dict, today: dt.date) -> ConditionResult:
    text, op, want = c["text"], c["op"], c["value"]
    label, unit, kind = spec["label"], spec["unit"], spec["type"]
    have = profile.get(c["field"])
    if have is None:
        return ConditionResult(text, "unclear", f"未填写{label}，请核实：{text}")
    if kind == "years" and isinstance(have, str):
        have = years_between(have, today)
    if kind == "enum":
        hit = [v for v in have if v in want] if op in ("in", "not_in") else [v for v in have if v == want[0]]
        ok = bool(hit) if op in ("in", "==") else not hit
        shown = _fmt(have)
    else:
        ok = _compare(op, have, want)
        shown = _fmt(have) + ("" if kind in ("bool", "date") else unit)
    if ok:
        return ConditionResult(text, "met", f"{label}为{shown}，符合")
    return ConditionResult(text, "unmet", f"{label}为{shown}，不满足：{text}")


def _region(policy_region: str, profile: dict, known: list[str]) -> ConditionResult | None:
    if not policy_region:
        return None
    if policy_region == regions.NATIONAL:
        return ConditionResult("全国范围适用", "met", "全国范围适用")
    text = f"注册在{policy_region}（含下辖地区）"
    wanted = profile.get("region")
    if not wanted:
        return ConditionResult(text, "unclear", f"未填写注册地，请确认企业是否注册在{policy_region}")
    resolved = regions.resolve(wanted, known)
    company = sorted(resolved)
    if not regions.applies_to(policy_region, resolved):
        return ConditionResult(text, "unmet", f"注册地{'、'.join(company)}不在{policy_region}")
    if any(policy_region in regions.levels(cp) for cp in company):  # the policy's region or under it
        return ConditionResult(text, "met", f"注册地{'、'.join(company)}在适用范围内")
    return ConditionResult(text, "unclear", f"注册地只填到{'、'.join(company)}，请确认企业是否注册在{policy_region}")


def _types(wanted: list[str], profile: dict) -> ConditionResult | None:
    if not wanted:
        return None
    text = f"适用对象：{'、'.join(wanted)}"
    have = profile.get("enterprise_types") or []
    if not have:
        return ConditionResult(text, "unclear", f"未填写企业类型，请确认企业是否属于{'、'.join(wanted)}之一")
    hit = [t for t in have if t in wanted]
    if hit:
        return ConditionResult(text, "met", f"企业属于{'、'.join(hit)}")
    return ConditionResult(text, "unmet", f"企业类型（{'、'.join(have)}）不在适用对象中；若企业也属于其中一类，请补选")


def evaluate_one(rule: dict, fields: dict, profile: dict, known: list[str], today: dt.date) -> Result:
    expires = dt.date.fromisoformat(rule["expires"]) if rule["expires"] else None
    status = policy_status(rule["status"], expires, today)  # dates win: the page may run long after the build
    conds: list[ConditionResult] = []
    if status != "effective":
        when = f"（{rule['expires']} 到期）" if status == "expired" and rule["expires"] else ""
        conds.append(ConditionResult("政策在有效期内", "unmet", f"政策{POLICY_STATUS_LABEL[status]}{when}，不能申报"))
    for extra in (_region(rule["region"], profile, known), _types(rule["enterprise_types"], profile)):
        if extra:
            conds.append(extra)
    for c in rule["conditions"]:
        conds.append(_condition(c, fields[c["field"]], profile, today))
    if not rule["conditions"]:
        conds.append(ConditionResult("其他申报条件见政策原文", "unclear",
                                     "这条政策的申报条件尚未逐条录入，请阅读政策原文核对"))
    verdicts = {c.verdict for c in conds}
    verdict = "ineligible" if "unmet" in verdicts else "unclear" if "unclear" in verdicts else "eligible"
    return Result(rule["id"], rule["title"], verdict, status, conds, rule["support"], rule["amount"],
                  rule["summary"], rule["deadline"], rule["expires"])


_RANK = {"eligible": 0, "unclear": 1, "ineligible": 2}


def sort_key(r: Result):
    return (r.status != "effective", _RANK[r.verdict], -r.met, r.deadline or "9999", r.id)


def evaluate(rules: dict, profile: dict, today: dt.date, *, include_all: bool = False) -> list[Result]:
    """Every current policy's verdict for a normalised profile, ordered: 符合, then 待确认 by
    conditions met, then 不符合; with `include_all`, non-current policies follow, marked so."""
    out = []
    for rule in rules["policies"]:
        r = evaluate_one(rule, rules["fields"], profile, rules["regions"], today)
        if r.status == "effective" or include_all:
            out.append(r)
    return sorted(out, key=sort_key)


def evaluate_content(policies, taxonomy, profile_data: dict, today: dt.date, *, include_all: bool = False,
                     include_drafts: bool = False) -> list[Result]:
    """Convenience for the CLI: rules from loaded policies, profile from its YAML data."""
    rules = export_rules(policies, taxonomy, today)
    if include_drafts and include_all:
        specs = taxonomy.condition_fields
        rules["policies"] += [policy_rules(p, specs, today) for p in policies if p.status_on(today) == "draft"]
    profile = normalise_profile(profile_data, taxonomy.condition_fields)
    if profile.get("region"):  # what companies call a place (高新区, 泰达): the taxonomy's `regions:` aliases
        known = [r["region"] for r in rules["policies"] if r["region"]]
        hits = regions.resolve(profile["region"], known, regions.alias_table(taxonomy, known))
        if len(hits) == 1:
            profile["region"] = next(iter(hits))
    return evaluate(rules, profile, today, include_all=include_all)
