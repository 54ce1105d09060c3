"""The calculator page (政策计算器) in headless Chromium: the page's evaluator and the Python one
give the same verdicts, reasons and order on the same profiles (all sample profiles plus
generated ones); form filling, the URL fragment round trip, keyboard use, a 375 px screen,
and no request leaving the site. The build and the page clock are pinned to one day."""
from __future__ import annotations

import datetime as dt
import json
import random

import pytest
import yaml
from browser_helpers import built_site, desktop_page, needs_bundled, needs_chromium, pin_clock, shot
from conftest import BUNDLED, PROJECT, TEST_OUTPUT

from policykb.content import eligibility as el
from policykb.content.loader import load_content

TODAY = dt.date(2026, 6, 1)
PROFILES = sorted((PROJECT / "tests" / "profiles").glob("*.yml"))
SHOTS = TEST_OUTPUT / "site"

pytestmark = [needs_chromium, needs_bundled]


@pytest.fixture(scope="module")
def content():
    return load_content(BUNDLED, include_issues=False)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    with built_site(BUNDLED, tmp_path_factory.mktemp("calc") / "site", TODAY) as (_, url):
        yield url


@pytest.fixture
def page(browser, base_url):
    with desktop_page(browser, TODAY, only_from=base_url) as pg:
        yield pg


def open_calculator(pg, base_url, fragment=""):
    pg.goto(base_url + "calculator.html" + (f"#{fragment}" if fragment else ""))
    pg.wait_for_selector("#pkb-calculator[data-ready='1']", timeout=10_000)


def python_results(content, profile_data, include_all=False):
    res = el.evaluate_content(content.policies, content.taxonomy, profile_data, TODAY, include_all=include_all)
    return [_comparable(r.as_dict()) for r in res]


def _comparable(d: dict) -> dict:
    keys = ("id", "title", "verdict", "status", "met", "support", "amount", "summary", "deadline", "expires")
    return {**{k: d[k] for k in keys}, "conditions": [{k: c[k] for k in ("text", "verdict", "reason")}
                                                       for c in d["conditions"]]}


def generated_profiles(content, n=25):
    """Random profiles around the thresholds the bundled conditions use, with gaps."""
    rng = random.Random(14)
    specs = content.taxonomy.condition_fields
    thresholds: dict[str, list] = {}
    for p in content.policies:
        for c in p.eligibility:
            thresholds.setdefault(c.field, []).append(c.value)
    regions = ["滨海高新区", "天津市", "天津市/滨海新区", "重庆市/两江新区", None]
    types = content.taxonomy.terms("enterprise_types")
    out = []
    for _ in range(n):
        prof: dict = {}
        if (r := rng.choice(regions)):
            prof["region"] = r
        if rng.random() < 0.8:
            prof["enterprise_types"] = rng.sample(types, rng.randint(1, 3))
        for name, spec in specs.items():
            if rng.random() < 0.4:
                continue
            if spec.type == "bool":
                prof[name] = rng.random() < 0.7
            elif spec.type == "enum":
                prof[name] = rng.choice(spec.values)
            elif spec.type == "date":
                prof[name] = rng.choice(["2020-05-01", "2024-01-01", "2025-03-15"])
            else:
                base = [float(v) for v in thresholds.get(name, [10]) if isinstance(v, (int, float))] or [10.0]
                v = rng.choice(base)
                prof[name] = rng.choice([v, v + 1, max(v - 1, 0), v * 3, 0.5])
                if spec.type == "years" and rng.random() < 0.3:
                    prof[name] = rng.choice(["2023-06-01", "2023-06-02", "2015-01-01"])
        out.append(prof)
    return out


def test_page_and_python_agree(page, base_url, content):
    profiles = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in PROFILES] + generated_profiles(content)
    profiles = [{k: v for k, v in prof.items() if k not in el.PROFILE_META} for prof in profiles]
    open_calculator(page, base_url)
    specs = content.taxonomy.condition_fields
    normalised = [el.normalise_profile(prof, specs) for prof in profiles]
    got = page.evaluate("""([profiles, today]) => profiles.map(p => [false, true].map(all =>
        window.policykb.calculator.evaluate(p, {today, all})))""", [normalised, TODAY.isoformat()])
    compared = 0
    for prof, (page_current, page_all) in zip(profiles, got):
        for include_all, page_rows in ((False, page_current), (True, page_all)):
            want = python_results(content, prof, include_all)
            assert [_comparable(r) for r in page_rows] == want, prof
            compared += len(want)
    assert len(profiles) >= len(PROFILES) + 25 and compared > 1000
    verdicts = {r["verdict"] for rows, _ in got for r in rows}
    assert verdicts == {"eligible", "unclear", "ineligible"}  # the profiles exercise every outcome


def _shown(pg):
    return pg.eval_on_selector_all("#pkb-calc-results .pkb-calc-item",
                                   "els => els.map(e => [e.dataset.id, e.dataset.verdict])")


def test_form_fill_and_fragment_round_trip(page, browser, base_url, content):
    open_calculator(page, base_url)
    page.select_option("select[name=region]", "天津市/滨海新区/滨海高新区")
    page.check("input[name=enterprise_types][value=高新技术企业]")
    page.check("input[name=enterprise_types][value=规模以上工业企业]")
    page.select_option("select[name=industry]", "工业制造")
    page.fill("input[name=years_founded]", "11")
    page.fill("input[name=project_investment]", "1500")
    page.fill("input[name=project_started]", "2024-05-10")
    page.select_option("select[name=tax_in_region]", "1")
    page.select_option("select[name=own_ip]", "0")
    profile = {"region": "天津市/滨海新区/滨海高新区", "enterprise_types": ["高新技术企业", "规模以上工业企业"],
               "industry": "工业制造", "years_founded": 11, "project_investment": 1500,
               "project_started": "2024-05-10", "tax_in_region": True, "own_ip": False}
    want = [(r["id"], r["verdict"]) for r in python_results(content, profile)]
    assert [tuple(x) for x in _shown(page)] == want
    n = {v: sum(1 for _, x in want if x == v) for v in ("eligible", "unclear", "ineligible")}
    assert page.inner_text("#pkb-calc-count") == (f"符合 {n['eligible']} 项 · 待确认 {n['unclear']} 项 · "
                                                  f"不符合 {n['ineligible']} 项")
    first = page.locator("#pkb-calc-results .pkb-calc-item").first
    assert first.get_attribute("data-id") == "zone-tech-upgrade-2025" and first.get_attribute("data-verdict") == "eligible"
    # Each 待确认 says what to check; results link to the policy pages.
    unclear = page.locator(".pkb-calc-item--unclear .pkb-calc-cond--unclear .pkb-calc-reason").first
    assert "请核实" in unclear.inner_text() or "请确认" in unclear.inner_text() or "请阅读" in unclear.inner_text()
    href = first.locator(".pkb-calc-title a").get_attribute("href")
    assert href == "policies/zone-tech-upgrade-2025.html"
    fragment = page.evaluate("window.location.hash")
    assert "region=" in fragment and "own_ip=0" in fragment and "type=" in fragment
    _shot(page, "calculator")

    # A bookmark: the same URL in a fresh page restores the form and the results.
    other = browser.new_context(locale="zh-CN").new_page()
    pin_clock(other, TODAY)
    open_calculator(other, base_url, fragment.lstrip("#"))
    assert other.input_value("input[name=project_started]") == "2024-05-10"
    assert other.is_checked("input[name=enterprise_types][value=高新技术企业]")
    assert other.input_value("select[name=own_ip]") == "0"
    assert _shown(other) == _shown(page)
    other.goto(base_url + href)
    assert other.locator("h1").first.inner_text().strip() == first.locator(".pkb-calc-title a").inner_text().strip()
    other.context.close()

    # --all: expired policies listed as such, never as 符合.
    page.check("input[name=all]")
    old = page.locator("[data-group=old] .pkb-calc-item")
    assert old.count() >= 2
    assert "zone-tech-upgrade-2022" in [old.nth(i).get_attribute("data-id") for i in range(old.count())]
    assert "all=1" in page.evaluate("window.location.hash")


def test_keyboard_and_phone(page, base_url):
    page.set_viewport_size({"width": 375, "height": 800})
    open_calculator(page, base_url)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    region = page.locator("select[name=region]")
    region.focus()
    page.keyboard.press("Tab")  # to the first enterprise type checkbox
    focused = page.evaluate("[document.activeElement.name, document.activeElement.value]")
    assert focused[0] == "enterprise_types"
    before = _shown(page)
    page.keyboard.press("Space")
    assert page.is_checked(f"input[name=enterprise_types][value={focused[1]}]")
    assert _shown(page) != before  # results follow the keyboard too
    page.locator("input[name=employees]").focus()
    page.keyboard.type("12")
    assert "employees=12" in page.evaluate("window.location.hash")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(page, "calculator-phone")


def _shot(pg, name: str) -> None:
    shot(pg, SHOTS, name)


def test_rules_file_is_what_python_exports(base_url, content, tmp_path):
    from urllib.request import urlopen
    with urlopen(base_url + "assets/calculator.json") as r:
        published = json.load(r)
    exported = el.export_rules(content.policies, content.taxonomy, TODAY)
    assert [p["id"] for p in published["policies"]] == [p["id"] for p in exported["policies"]]
    assert all(p["status"] != "draft" for p in published["policies"])  # drafts are not published
    assert published["fields"] == json.loads(json.dumps(exported["fields"], ensure_ascii=False))
