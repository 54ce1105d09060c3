// Policy calculator (政策计算器) on the published site.
//
// Evaluates, in the browser, the rules that `policykb build` exports from
// policykb/content/eligibility.py into assets/calculator.json. `evaluate` below is a port of
// eligibility.evaluate (same verdicts, reasons and order): change the two together;
// tests/test_calculator_browser.py runs both on the same profiles in Chromium.
// Nothing is sent anywhere: the profile lives in the form and in the URL fragment only.
// Rendering uses createElement/textContent only (the site's CSP forbids inline script).

const NATIONAL = "全国";
const STATUS_LABEL = { effective: "有效", expired: "已失效", repealed: "已废止", draft: "草稿" };
const VERDICT_LABEL = { eligible: "符合", unclear: "待确认", ineligible: "不符合" };
const MARK = { met: "✓", unclear: "?", unmet: "✗" };
const RANK = { eligible: 0, unclear: 1, ineligible: 2 };

// ---------------------------------------------------------------- regions (content/regions.py)

function parts(region) {
  return (region || "").split("/").map((p) => p.trim().replace(/ /g, "")).filter(Boolean);
}
const rpath = (region) => parts(region).join("/");
function levels(region) {
  const ps = parts(region);
  return ps.map((_, i) => ps.slice(0, i + 1).join("/"));
}
function resolve(wanted, known) {
  const w = rpath(wanted);
  const prefixes = new Set();
  known.forEach((k) => levels(k).forEach((lv) => prefixes.add(lv)));
  const hits = new Set();
  if (w.includes("/") || prefixes.has(w)) hits.add(w);
  prefixes.forEach((p) => { if (p.split("/").pop() === w) hits.add(p); });
  if (!hits.size) hits.add(w);
  return [...hits].sort();
}

// ---------------------------------------------------------------- the evaluator (content/eligibility.py)

function fmt(v) {
  if (typeof v === "boolean") return v ? "是" : "否";
  if (Array.isArray(v)) return v.map(String).join("、");
  return String(v);
}

function yearsBetween(startIso, todayIso) {
  const [sy, sm, sd] = startIso.split("-").map(Number);
  const [ty, tm, td] = todayIso.split("-").map(Number);
  const before = tm < sm || (tm === sm && td < sd);
  return ty - sy - (before ? 1 : 0);
}

function compare(op, have, want) {
  switch (op) {
    case ">=": return have >= want;
    case ">": return have > want;
    case "<=": return have <= want;
    case "<": return have < want;
    case "==": return have === want;
    case "!=": return have !== want;
    default: throw new Error("unknown op " + op);
  }
}

function condition(c, spec, profile, today) {
  const { text, op, value: want } = c;
  const { label, unit, type } = spec;
  let have = profile[c.field];
  if (have === undefined || have === null) {
    return { text, verdict: "unclear", reason: `未填写${label}，请核实：${text}` };
  }
  if (type === "years" && typeof have === "string") have = yearsBetween(have, today);
  let ok, shown;
  if (type === "enum") {
    const hit = (op === "in" || op === "not_in") ? have.filter((v) => want.includes(v))
      : have.filter((v) => v === want[0]);
    ok = (op === "in" || op === "==") ? hit.length > 0 : hit.length === 0;
    shown = fmt(have);
  } else {
    ok = compare(op, have, want);
    shown = fmt(have) + ((type === "bool" || type === "date") ? "" : unit);
  }
  if (ok) return { text, verdict: "met", reason: `${label}为${shown}，符合` };
  return { text, verdict: "unmet", reason: `${label}为${shown}，不满足：${text}` };
}

function regionCondition(policyRegion, profile, known) {
  if (!policyRegion) return null;
  if (policyRegion === NATIONAL) return { text: "全国范围适用", verdict: "met", reason: "全国范围适用" };
  const text = `注册在${policyRegion}（含下辖地区）`;
  const wanted = profile.region;
  if (!wanted) return { text, verdict: "unclear", reason: `未填写注册地，请确认企业是否注册在${policyRegion}` };
  const company = resolve(wanted, known);
  const names = company.join("、");
  if (company.some((cp) => cp === policyRegion || cp.startsWith(policyRegion + "/"))) {
    return { text, verdict: "met", reason: `注册地${names}在适用范围内` };
  }
  if (company.some((cp) => policyRegion.startsWith(cp + "/"))) {
    return { text, verdict: "unclear", reason: `注册地只填到${names}，请确认企业是否注册在${policyRegion}` };
  }
  return { text, verdict: "unmet", reason: `注册地${names}不在${policyRegion}` };
}

function typesCondition(wanted, profile) {
  if (!wanted.length) return null;
  const list = wanted.join("、");
  const text = `适用对象：${list}`;
  const have = profile.enterprise_types || [];
  if (!have.length) return { text, verdict: "unclear", reason: `未填写企业类型，请确认企业是否属于${list}之一` };
  const hit = have.filter((t) => wanted.includes(t));
  if (hit.length) return { text, verdict: "met", reason: `企业属于${hit.join("、")}` };
  return { text, verdict: "unmet", reason: `企业类型（${have.join("、")}）不在适用对象中；若企业也属于其中一类，请补选` };
}

function evaluateOne(rule, fields, profile, known, today) {
  let status = rule.status;
  if (status === "effective" && rule.expires && rule.expires < today) status = "expired";
  const conds = [];
  if (status !== "effective") {
    const when = status === "expired" && rule.expires ? `（${rule.expires} 到期）` : "";
    conds.push({ text: "政策在有效期内", verdict: "unmet", reason: `政策${STATUS_LABEL[status]}${when}，不能申报` });
  }
  for (const extra of [regionCondition(rule.region, profile, known), typesCondition(rule.enterprise_types, profile)]) {
    if (extra) conds.push(extra);
  }
  for (const c of rule.conditions) conds.push(condition(c, fields[c.field], profile, today));
  if (!rule.conditions.length) {
    conds.push({ text: "其他申报条件见政策原文", verdict: "unclear", reason: "这条政策的申报条件尚未逐条录入，请阅读政策原文核对" });
  }
  const vs = new Set(conds.map((c) => c.verdict));
  const verdict = vs.has("unmet") ? "ineligible" : vs.has("unclear") ? "unclear" : "eligible";
  return {
    id: rule.id, title: rule.title, verdict, status, conditions: conds, support: rule.support,
    amount: rule.amount, summary: rule.summary, deadline: rule.deadline, expires: rule.expires,
    met: conds.filter((c) => c.verdict === "met").length, href: rule.href || "",
  };
}

function sortKey(r) {
  return [r.status !== "effective" ? 1 : 0, RANK[r.verdict], -r.met, r.deadline || "9999", r.id];
}
function byKey(a, b) {
  const ka = sortKey(a), kb = sortKey(b);
  for (let i = 0; i < ka.length; i += 1) {
    if (ka[i] < kb[i]) return -1;
    if (ka[i] > kb[i]) return 1;
  }
  return 0;
}

export function evaluate(rules, profile, { today, all = false } = {}) {
  const day = today || localToday();
  const out = [];
  for (const rule of rules.policies) {
    const r = evaluateOne(rule, rules.fields, profile, rules.regions, day);
    if (r.status === "effective" || all) out.push(r);
  }
  return out.sort(byKey);
}

function localToday() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// ---------------------------------------------------------------- the form, the fragment, the list

function readForm(form, fields) {
  const profile = {};
  const region = form.elements.region.value;
  if (region) profile.region = region;
  const types = [...form.querySelectorAll("input[name=enterprise_types]:checked")].map((b) => b.value);
  if (types.length) profile.enterprise_types = types;
  form.querySelectorAll("[data-type]").forEach((el) => {
    const raw = el.value.trim();
    if (!raw || !fields[el.name]) return;
    const type = el.getAttribute("data-type");
    if (type === "bool") profile[el.name] = raw === "1";
    else if (type === "enum") profile[el.name] = [raw];
    else if (type === "date") profile[el.name] = raw;
    else {
      const n = Number(raw);
      if (Number.isFinite(n)) profile[el.name] = n;
    }
  });
  return profile;
}

function toFragment(form) {
  const params = new URLSearchParams();
  const region = form.elements.region.value;
  if (region) params.append("region", region);
  form.querySelectorAll("input[name=enterprise_types]:checked").forEach((b) => params.append("type", b.value));
  form.querySelectorAll("[data-type]").forEach((el) => { if (el.value.trim()) params.append(el.name, el.value.trim()); });
  if (form.elements.all.checked) params.append("all", "1");
  return params.toString();
}

function fromFragment(form, hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  form.reset();
  const region = params.get("region");
  if (region && [...form.elements.region.options].some((o) => o.value === region)) form.elements.region.value = region;
  const types = params.getAll("type");
  form.querySelectorAll("input[name=enterprise_types]").forEach((b) => { b.checked = types.includes(b.value); });
  form.querySelectorAll("[data-type]").forEach((el) => {
    const v = params.get(el.name);
    if (v === null) return;
    if (el.tagName === "SELECT" && ![...el.options].some((o) => o.value === v)) return;
    el.value = v;
  });
  form.elements.all.checked = params.get("all") === "1";
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function item(r) {
  const li = el("li", `pkb-calc-item pkb-calc-item--${r.verdict}`);
  li.setAttribute("data-id", r.id);
  li.setAttribute("data-verdict", r.verdict);
  const head = el("p", "pkb-calc-title");
  const link = el("a", "", r.title);
  link.href = r.href;
  head.appendChild(link);
  const badge = r.status === "effective" ? VERDICT_LABEL[r.verdict] : STATUS_LABEL[r.status];
  head.appendChild(el("span", `pkb-calc-badge pkb-calc-badge--${r.verdict}`, badge));
  li.appendChild(head);
  const support = [r.support.join("、"), r.amount].filter(Boolean).join("；");
  if (support) li.appendChild(el("p", "pkb-calc-support", `支持：${support}`));
  if (r.summary && r.verdict !== "ineligible") li.appendChild(el("p", "pkb-calc-summary", r.summary));
  if (r.deadline) li.appendChild(el("p", "pkb-calc-deadline", `申报截止：${r.deadline}`));
  const list = el("ul", "pkb-calc-conds");
  for (const c of r.conditions) {
    const row = el("li", `pkb-calc-cond pkb-calc-cond--${c.verdict}`);
    row.appendChild(el("span", "pkb-calc-mark", MARK[c.verdict]));
    row.appendChild(el("span", "pkb-calc-text", c.text));
    if (c.verdict !== "met") row.appendChild(el("span", "pkb-calc-reason", c.reason));
    list.appendChild(row);
  }
  li.appendChild(list);
  return li;
}

function render(box, results) {
  box.replaceChildren();
  const current = results.filter((r) => r.status === "effective");
  const count = (v) => current.filter((r) => r.verdict === v).length;
  const status = document.getElementById("pkb-calc-count");
  if (status) status.textContent = `符合 ${count("eligible")} 项 · 待确认 ${count("unclear")} 项 · 不符合 ${count("ineligible")} 项`;
  const groups = [
    ["eligible", "符合", current.filter((r) => r.verdict === "eligible"), true],
    ["unclear", "待确认：逐条核实标有 ? 的条件", current.filter((r) => r.verdict === "unclear"), true],
    ["ineligible", "不符合", current.filter((r) => r.verdict === "ineligible"), false],
    ["old", "已失效、已废止（仅供查询）", results.filter((r) => r.status !== "effective"), false],
  ];
  for (const [key, title, rows, open] of groups) {
    if (!rows.length) continue;
    const section = el("details", `pkb-calc-group pkb-calc-group--${key}`);
    section.open = open;
    section.setAttribute("data-group", key);
    section.appendChild(el("summary", "", `${title}（${rows.length}）`));
    const ol = el("ol", "pkb-calc-list");
    rows.forEach((r) => ol.appendChild(item(r)));
    section.appendChild(ol);
    box.appendChild(section);
  }
}

async function init() {
  const root = document.getElementById("pkb-calculator");
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "loading");
  const form = document.getElementById("pkb-calc-form");
  const box = document.getElementById("pkb-calc-results");
  let rules;
  try {
    const response = await fetch(new URL("calculator.json", import.meta.url));
    if (!response.ok) throw new Error(String(response.status));
    rules = await response.json();
  } catch (e) {
    box.replaceChildren(el("p", "pkb-calc-note", "政策计算器的规则文件没有读取成功，请刷新页面重试。"));
    root.setAttribute("data-ready", "failed");
    return;
  }
  const api = {
    rules,
    evaluate: (profile, opts = {}) => evaluate(rules, profile, opts),
    profile: () => readForm(form, rules.fields),
  };
  window.policykb = window.policykb || {};
  window.policykb.calculator = api;
  const update = () => {
    const profile = readForm(form, rules.fields);
    render(box, evaluate(rules, profile, { all: form.elements.all.checked }));
    const frag = toFragment(form);
    if (frag !== window.location.hash.replace(/^#/, "")) {
      history.replaceState(null, "", frag ? "#" + frag : window.location.pathname + window.location.search);
    }
  };
  fromFragment(form, window.location.hash);
  form.hidden = false;
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.addEventListener("submit", (e) => { e.preventDefault(); update(); });
  form.addEventListener("reset", () => setTimeout(update, 0));
  window.addEventListener("hashchange", () => {
    if (window.location.hash.replace(/^#/, "") !== toFragment(form)) { fromFragment(form, window.location.hash); update(); }
  });
  update();
  root.setAttribute("data-ready", "1");
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
}
