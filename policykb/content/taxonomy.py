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
