"""Related policies from an inverted index (site/views.py) give exactly what comparing every
pair gave, on the bundled content and on a generated tree with many shared attributes."""
from __future__ import annotations

import datetime as dt
import random

import pytest
from conftest import BUNDLED, write_tree

from policykb.content.loader import load_content
from policykb.site.gitdates import GitInfo
from policykb.site.views import policy_views

TODAY = dt.date(2026, 3, 1)


def _pairwise(views, limit=5):
    """The former O(n²) definition, kept here as the reference."""
    current = [v for v in views.values() if v.current]
    out = {}
    for v in views.values():
        linked = {v.id} | {ln.page for ln in v.replaced_by + v.replaces}
        scored = []
        for o in current:
            if o.id in linked or o.page in linked:
                continue
            score = (2 * len(set(v.categories) & set(o.categories)) + len(set(v.enterprise_types) & set(o.enterprise_types))
                     + len(set(v.support) & set(o.support)) + (1 if v.region and v.region == o.region else 0))
            if score >= 2:
                scored.append((-score, -(o.published or dt.date.min).toordinal(), o.id, o))
        out[v.id] = [o.page for *_, o in sorted(scored)[:limit]]
    return out


def _views(root):
    c = load_content(root, include_issues=False)
    return policy_views(c.policies, c.faqs, today=TODAY, git=GitInfo(), edit_base="")


@pytest.mark.skipif(not (BUNDLED / "policies").is_dir(), reason="bundled content not present")
def test_related_policies_equal_the_pairwise_definition_on_bundled_content():
    views = _views(BUNDLED)
    expected = _pairwise(views)
    assert any(expected.values())
    assert {pid: [ln.page for ln in v.related] for pid, v in views.items()} == expected


def test_related_policies_equal_the_pairwise_definition_on_a_generated_tree(tmp_path):
    rng = random.Random(3)
    cats, types, sup = ["科技创新", "产业发展", "人才就业", "金融支持"], ["高新技术企业", "中小微企业"], ["资金补贴", "贷款贴息"]
    files = {}
    for i in range(60):
        meta = [f"title: 政策{i}", f"published: 2025-{1 + i % 12:02d}-{1 + i % 27:02d}",
                f"categories: [{', '.join(rng.sample(cats, rng.randint(0, 2)))}]",
                f"enterprise_types: [{', '.join(rng.sample(types, rng.randint(0, 2)))}]",
                f"support: [{', '.join(rng.sample(sup, rng.randint(0, 2)))}]",
                f"region: {rng.choice(['天津市', '天津市/滨海新区', '全国'])}"]
        if i % 10 == 1:
            meta.append(f"superseded_by: [p{i - 1}]")
            meta.append("expires: 2025-12-31")
        files[f"policies/p{i}.md"] = "---\n" + "\n".join(meta) + "\n---\n正文。\n"
    views = _views(write_tree(tmp_path / "content", files))
    expected = _pairwise(views)
    assert sum(map(len, expected.values())) > 100
    assert {pid: [ln.page for ln in v.related] for pid, v in views.items()} == expected
