"""Controlled vocabularies (content/taxonomy.yml, defaulting to the contract's)."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

DEFAULT = {
    "categories": ["科技创新", "产业发展", "人才就业", "金融支持", "税费减免", "用地建设",
                   "审批服务", "市场开拓", "生产配套", "生活配套", "营商环境"],
    "enterprise_types": ["科技型中小企业", "高新技术企业", "专精特新中小企业", "小巨人企业",
                         "规模以上工业企业", "中小微企业", "初创企业", "外资企业", "总部企业",
                         "个体工商户"],
    "support": ["资金补贴", "贷款贴息", "融资担保", "税费减免", "租金减免", "用地保障", "人才奖励",
                "落户便利", "子女入学", "审批便利", "服务对接"],
    "issue_categories": ["投资和政策环境", "审批", "人才就业", "市场", "生产配套", "生活配套",
                         "税费", "其他"],
}

# Condition fields for policies' `eligibility` lists (政策计算器): name -> label, type, unit,
# values. Kept apart from the vocabularies above (they are mappings, not word lists);
# `condition_fields:` in taxonomy.yml adds fields or replaces these.
CONDITION_FIELDS = {
    "years_founded": {"label": "成立年限", "type": "years", "unit": "年"},
    "employees": {"label": "从业人数", "type": "number", "unit": "人"},
    "revenue": {"label": "上年度营业收入", "type": "number", "unit": "万元"},
    "assets": {"label": "资产总额", "type": "number", "unit": "万元"},
    "taxable_income": {"label": "年应纳税所得额", "type": "number", "unit": "万元"},
    "rd_ratio": {"label": "研发费用占营业收入比例", "type": "number", "unit": "%"},
    "tech_staff_ratio": {"label": "科技（研发）人员占职工总数比例", "type": "number", "unit": "%"},
    "clean_record_years": {"label": "连续无严重违法失信记录年限", "type": "years", "unit": "年"},
    "tax_credit": {"label": "纳税信用等级", "type": "enum", "values": ["A", "B", "M", "C", "D"]},
    "own_ip": {"label": "拥有自主知识产权", "type": "bool"},
    "no_violation": {"label": "无严重违法失信记录", "type": "bool"},
    "loans_repaid_on_time": {"label": "贷款按期还本付息、无逾期记录", "type": "bool"},
    "social_insurance": {"label": "依法为职工缴纳社会保险", "type": "bool"},
    "tax_in_region": {"label": "税收关系在注册地所在区", "type": "bool"},
    "stay_commitment": {"label": "承诺十年内不迁出本区", "type": "bool"},
    "industry": {"label": "所属行业", "type": "enum",
                 "values": ["工业制造", "软件和信息技术服务", "科学研究和技术服务", "批发和零售", "住宿和餐饮",
                            "房地产", "租赁和商务服务", "金融", "建筑", "交通运输", "其他服务业"]},
    "vat_payer": {"label": "增值税纳税人类型", "type": "enum", "values": ["小规模纳税人", "一般纳税人"]},
    "export_rights": {"label": "有进出口经营权", "type": "bool"},
    "in_incubator": {"label": "入驻区级以上认定的孵化器或众创空间", "type": "bool"},
    "founder_share": {"label": "创始团队持股比例", "type": "number", "unit": "%"},
    "insured_months": {"label": "连续缴纳失业保险月数", "type": "number", "unit": "个月"},
    "foreign_capital": {"label": "当年实际到资外资", "type": "number", "unit": "万美元"},
    "project_investment": {"label": "拟申报项目设备投资额", "type": "number", "unit": "万元"},
    "project_started": {"label": "拟申报项目开工日期", "type": "date"},
}


def _default_fields() -> dict:
    from policykb.content.eligibility import spec_of
    return {name: spec_of(name, d) for name, d in CONDITION_FIELDS.items()}


# Which record key is checked against which vocabulary.
FIELD_VOCABULARY = {
    ("policy", "categories"): "categories",
    ("policy", "enterprise_types"): "enterprise_types",
    ("policy", "support"): "support",
    ("faq", "categories"): "categories",
    ("issue", "category"): "issue_categories",
}


# The taxonomy's `regions:` section: region path -> the names companies use for it.
REGIONS_KEY = "regions"


def parse_regions(data) -> tuple[dict[str, list[str]], list[tuple[tuple, str]]]:
    """`regions:` mapping {path: [alias, …]} -> ({normalised path: aliases}, [(key path, problem)]).

    A path may map to an empty list or nothing (its own last level is always a name of it)."""
    from policykb.content import regions as _regions
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        return {}, [((REGIONS_KEY,), "地区别名表 “regions” 应为“地区路径: [别名, …]”的映射。"
                                    "请按“天津市/滨海新区: [滨海, 滨海新区]”的格式书写。")]
    out: dict[str, list[str]] = {}
    problems = []
    for key, aliases in data.items():
        p = _regions.path(str(key))
        if aliases is None:
            aliases = []
        if not p or not isinstance(aliases, list) or not all(isinstance(a, (str, int)) and str(a).strip() for a in aliases):
            problems.append(((REGIONS_KEY, key), f"地区 “{key}” 的别名应为非空文本组成的列表。"
                                                 "请写成“地区路径: [简称, 别称]”。"))
            continue
        out[p] = list(dict.fromkeys(str(a).strip() for a in aliases))
    return out, problems


@dataclass
class Taxonomy:
    vocabularies: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in DEFAULT.items()})
    path: str | None = None  # None when the default is used
    # Region path -> aliases and short names (the `regions:` section; see content/regions.py).
    regions: dict[str, list[str]] = field(default_factory=dict)
    condition_fields: dict = field(default_factory=_default_fields)  # name -> eligibility.FieldSpec

    def terms(self, name: str) -> list[str]:
        return self.vocabularies.get(name, [])

    def allows(self, name: str, term: str) -> bool:
        return term in self.vocabularies.get(name, [])

    def closest(self, name: str, term: str) -> str | None:
        """The allowed term nearest to a wrong one (for 'did you mean')."""
        terms = self.terms(name)
        hits = difflib.get_close_matches(term, terms, n=1, cutoff=0.3)
        if hits:
            return hits[0]
        # Fall back to shared characters: Chinese terms are short, ratios get noisy.
        scored = sorted(((len(set(term) & set(t)), t) for t in terms), reverse=True)
        return scored[0][1] if scored and scored[0][0] > 0 else None
