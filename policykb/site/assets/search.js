// The site's own search (issue 12). Plain ES module, no framework, nothing remote.
// It mirrors policykb/site/sitesearch/analysis.py and query.py step for step: same analysis,
// same integer scores, same tie-break, so the browser ranks as `policykb eval --engine site`.
// Nothing is fetched until the first search: then search/manifest.json (the only fixed name),
// the resources, the filter data and only the shards of the question's terms.
//
//   window.policykb.search(question, {top, type, region, includeExpired})
//     -> Promise<[{id, type, title, url, status, score, snippet, region, deadline}]>

const BASE = new URL("../", import.meta.url);
const ROOT = new URL("search/", BASE);
const TOKEN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[0-9a-z]+/g;
const A_NOT_A = /([\u4e00-\u9fff])[不没]\1/g;
const WORD = 2, SYNONYM = 1, MAX_QUERY_TERMS = 60, HOMOPHONE_MAX = 6;
const LINK_NUM = 7, LINK_DEN = 20, ZONE_NUM = 3, ZONE_DEN = 10;
const STATUS_NAME = { e: "effective", x: "expired", r: "repealed", d: "draft" };
const TYPE_CODE = { policy: "p", faq: "f", issue: "i" };
const TYPE_LABEL = { policy: "政策", faq: "问答", issue: "诉求" };
const STATUS_LABEL = { expired: "已失效", repealed: "已废止", draft: "草稿" };
const SNIPPET_CHARS = 110;

let state = null; // {manifest, res, docs, shards: Map, readings}

async function getJSON(url, opts) {
  const r = await fetch(url, opts);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.json();
}

async function load() {
  if (state) return state;
  state = (async () => {
    const manifest = await getJSON(new URL("manifest.json", ROOT), { cache: "no-cache" });
    const [resJson, docs] = await Promise.all([getJSON(new URL(manifest.res, ROOT)), getJSON(new URL(manifest.docs, ROOT))]);
    const t2s = new Map();
    const pairs = Array.from(resJson.t2s); // code points, like Python's str
    for (let i = 0; i + 1 < pairs.length; i += 2) t2s.set(pairs[i], pairs[i + 1]);
    const stop = new Set(resJson.stop);
    let longest = 0;
    for (const w of stop) longest = Math.max(longest, w.length);
    const byLen = new Map();
    for (const t of resJson.terms) {
      if (!byLen.has(t.length)) byLen.set(t.length, []);
      byLen.get(t.length).push(t);
    }
    const res = { t2s, stop, longest, stop1: new Set(resJson.stop1), breaks: new Set(resJson.breaks),
      synonyms: resJson.synonyms, typos: resJson.typos, byLen, readings: null };
    return { manifest, res, docs, shards: new Map() };
  })();
  try {
    state = await state;
  } catch (e) {
    state = null;
    throw e;
  }
  return state;
}

// --- analysis (analysis.py) -----------------------------------------------------------

function normalise(text, res) {
  let out = "";
  for (const ch of text || "") {
    let c = ch.codePointAt(0);
    let s = ch;
    if (c >= 0xff01 && c <= 0xff5e) s = String.fromCodePoint(c - 0xfee0);
    else if (c === 0x3000) s = " ";
    s = res.t2s.get(s) || s;
    const low = s.toLowerCase();
    out += low.length === s.length ? low : s;
  }
  return out;
}

const isCjk = (p) => p.length > 0 && p[0] >= "\u3400";

function pieces(norm, res) {
  const out = [];
  const toks = norm.replace(A_NOT_A, " ").match(TOKEN) || [];
  for (const tok of toks) {
    if (!isCjk(tok)) { out.push(tok); continue; }
    let cur = "", i = 0;
    const n = tok.length;
    while (i < n) {
      let hit = 0;
      for (let size = Math.min(res.longest, n - i); size > 1; size--) {
        if (res.stop.has(tok.slice(i, i + size))) { hit = size; break; }
      }
      if (hit || res.breaks.has(tok[i])) {
        if (cur) out.push(cur);
        cur = "";
        i += hit || 1;
        continue;
      }
      cur += tok[i];
      i += 1;
    }
    if (cur) out.push(cur);
  }
  return out;
}

function pieceTerms(piece, res) {
  if (!isCjk(piece)) return (piece.length > 1 || /^[0-9]+$/.test(piece)) && !res.stop.has(piece) ? [piece] : [];
  if (piece.length === 1) return res.stop1.has(piece) ? [] : [piece];
  const out = [];
  for (let i = 0; i + 1 < piece.length; i++) out.push(piece.slice(i, i + 2));
  return out;
}

function textTerms(norm, res) {
  const out = [];
  for (const p of pieces(norm, res)) out.push(...pieceTerms(p, res));
  return out;
}

function addTerm(terms, t, w) {
  if ((terms.get(t) || 0) < w) terms.set(t, w);
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// Region names in the question (analysis.zones_in): longest first, cut out of the question.
function zonesIn(norm, docs) {
  const names = docs.alias_order || [];
  if (!names.length) return [[], norm];
  if (!docs._zoneRe) docs._zoneRe = new RegExp(names.map(escapeRe).join("|"), "g");
  const paths = [];
  let out = "", pos = 0, m;
  docs._zoneRe.lastIndex = 0;
  while ((m = docs._zoneRe.exec(norm))) {
    for (const p of docs.aliases[m[0]]) if (!paths.includes(p)) paths.push(p);
    out += norm.slice(pos, m.index) + "，";
    pos = m.index + m[0].length;
  }
  return [paths, out + norm.slice(pos)];
}

const fixTypos = (norm, res) => {
  for (const [wrong, right] of res.typos) norm = norm.split(wrong).join(right);
  return norm;
};

function analyseQuery(question, res, docs) {
  let norm0 = normalise(question, res);
  let zones = [];
  if (docs) {
    const [found, rest] = zonesIn(norm0, docs);
    if (found.length && textTerms(fixTypos(rest, res), res).length) {
      zones = found;
      norm0 = rest;
    }
  }
  const norm = fixTypos(norm0, res);
  const ps = pieces(norm, res);
  const terms = new Map();
  for (const p of ps) for (const t of pieceTerms(p, res)) addTerm(terms, t, WORD);
  const content = ps.join("|");
  const done = new Set();
  for (const group of res.synonyms) {
    const present = group.filter((w) => content.includes(w));
    if (!present.length) continue;
    for (const alt of group) {
      if (present.includes(alt) || done.has(alt)) continue;
      done.add(alt);
      for (const t of textTerms(alt, res)) addTerm(terms, t, SYNONYM);
    }
  }
  return { normalized: norm, pieces: ps, terms, zones };
}

function finalTerms(q) {
  const items = [...q.terms.entries()];
  items.sort((a, b) => b[1] - a[1]);
  return items.slice(0, MAX_QUERY_TERMS);
}

function homophoneFixes(q, known, res) {
  const fixes = [];
  const rd = res.readings;
  const shares = (a, b) => {
    const ra = rd.get(a), rb = rd.get(b);
    return !!ra && !!rb && ra.some((x) => rb.includes(x));
  };
  for (const p of q.pieces) {
    if (!isCjk(p) || p.length < 2) continue;
    const unknown = [];
    for (let i = 0; i + 1 < p.length; i++) unknown.push(!known(p.slice(i, i + 2)));
    if (!unknown.some(Boolean)) continue;
    for (let n = 2; n <= Math.min(HOMOPHONE_MAX, p.length); n++) {
      for (let i = 0; i + n <= p.length; i++) {
        if (!unknown.slice(i, i + n - 1).some(Boolean)) continue;
        const w = p.slice(i, i + n);
        for (const term of res.byLen.get(n) || []) {
          const diff = [];
          for (let k = 0; k < n; k++) if (w[k] !== term[k]) diff.push(k);
          if (diff.length === 1 && shares(w[diff[0]], term[diff[0]]) && !fixes.includes(term)) fixes.push(term);
        }
      }
    }
  }
  return fixes;
}

// --- index files (index.py) -------------------------------------------------------------

function fnv1a(term) {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(term)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function idf1000(n, df) {
  return Math.floor(1000 * Math.log(1 + (n - df + 0.5) / (df + 0.5)) + 0.5);
}

// Shard format: policykb/site/sitesearch/index.py (column by column; LEB128 varints).
function parseShard(buf, n, imp) {
  const bytes = new Uint8Array(buf);
  let pos = 0;
  const varint = () => {
    let v = 0, mul = 1, b;
    do { b = bytes[pos++]; v += (b & 0x7f) * mul; mul *= 128; } while (b >= 0x80);
    return v;
  };
  const column = (count) => {
    const out = new Array(count);
    for (let k = 0; k < count; k++) out[k] = varint();
    return out;
  };
  const count = varint();
  const lengths = column(count), shared = column(count), first = column(count);
  const terms = new Array(count);
  let prev = "";
  for (let k = 0; k < count; k++) {
    const p = shared[k];
    const unit = first[k] + (p < prev.length ? prev.charCodeAt(p) : 0);
    let term = prev.slice(0, p) + String.fromCharCode(unit);
    for (let u = p + 1; u < lengths[k]; u++, pos += 2) term += String.fromCharCode(bytes[pos] | (bytes[pos + 1] << 8));
    terms[k] = term;
    prev = term;
  }
  const dfs = column(count), left = column(count);
  const out = new Map();
  const lists = [];
  for (let k = 0; k < count; k++) {
    const kept = dfs[k] - left[k]; // very common terms of large corpora keep their strongest postings only
    const rows = new Int32Array(kept);
    let row = 0;
    for (let j = 0; j < kept; j++) { row += varint(); rows[j] = row; }
    lists.push(rows);
  }
  for (let k = 0; k < count; k++) {
    const rows = lists[k];
    const imps = new Uint8Array(rows.length);
    for (let j = 0; j < rows.length; j++) {
      const code = bytes[pos++];
      imps[j] = code < 2 ? imp.charCodeAt(2 * rows[j] + code) - 48 : code - 1;
    }
    out.set(terms[k], { idf: idf1000(n, dfs[k]), rows, imps });
  }
  return out;
}

function shardOf(st, term) {
  return fnv1a(term) % st.manifest.shards;
}

async function loadShards(st, terms) {
  const need = [...new Set(terms.map((t) => shardOf(st, t)))].filter((i) => !st.shards.has(i));
  await Promise.all(need.map(async (i) => {
    const r = await fetch(new URL(st.manifest.shard[i], ROOT));
    if (!r.ok) throw new Error(`shard ${i}: ${r.status}`);
    st.shards.set(i, parseShard(await r.arrayBuffer(), st.manifest.n, st.docs.imp));
  }));
}

function postings(st, term) {
  const shard = st.shards.get(shardOf(st, term));
  return shard ? shard.get(term) : undefined;
}

async function loadReadings(st) {
  if (st.res.readings) return;
  const packed = await getJSON(new URL(st.manifest.readings, ROOT));
  const rd = new Map();
  packed.forEach((chars, i) => {
    for (const c of chars) {
      if (!rd.has(c)) rd.set(c, []);
      rd.get(c).push(i);
    }
  });
  st.res.readings = rd;
}

// --- regions (policykb/content/regions.py) -------------------------------------------------

const regionParts = (r) => (r || "").split("/").map((p) => p.trim().replace(/ /g, "")).filter(Boolean);
const regionPath = (r) => regionParts(r).join("/");
function regionLevels(r) {
  const ps = regionParts(r);
  return ps.map((_, i) => ps.slice(0, i + 1).join("/"));
}

function resolveRegion(wanted, known, table) {
  const key = (wanted || "").trim().toLowerCase();
  if (table && key && Object.prototype.hasOwnProperty.call(table, key)) return new Set(table[key]);
  const w = regionPath(wanted);
  const prefixes = new Set();
  for (const k of known) for (const lv of regionLevels(k)) prefixes.add(lv);
  const hits = new Set();
  if (w.includes("/") || prefixes.has(w)) hits.add(w);
  for (const p of prefixes) if (p.split("/").pop() === w) hits.add(p);
  if (!hits.size) hits.add(w);
  return hits;
}

function appliesTo(recordRegion, company) {
  const rp = regionPath(recordRegion);
  if (!rp || rp === "全国") return true;
  for (const cp of company) if (rp === cp || cp.startsWith(rp + "/") || rp.startsWith(cp + "/")) return true;
  return false;
}

// --- ranking (query.py) -------------------------------------------------------------------

function todayDays() {
  const d = new Date();
  return Math.floor(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) / 86400000);
}

function statusOf(st, row, today) {
  if (st.docs.type[row] !== "p") return null;
  const code = st.docs.status[row];
  if (code !== "-") return STATUS_NAME[code];
  const exp = st.docs.expires[row];
  return exp >= 0 && exp < today ? "expired" : "effective";
}

async function ranked(question, opts = {}) {
  const st = await load();
  const top = opts.top || 10;
  const q = analyseQuery(question, st.res, st.docs);
  let terms = finalTerms(q);
  await loadShards(st, terms.map(([t]) => t));
  const hasUnknown = q.pieces.some((p) => {
    if (!isCjk(p) || p.length < 2) return false;
    for (let i = 0; i + 1 < p.length; i++) if (postings(st, p.slice(i, i + 2)) === undefined) return true;
    return false;
  });
  if (hasUnknown) {
    await loadReadings(st);
    for (const fix of homophoneFixes(q, (t) => postings(st, t) !== undefined, st.res)) {
      for (const t of textTerms(fix, st.res)) addTerm(q.terms, t, WORD);
    }
    terms = finalTerms(q);
    await loadShards(st, terms.map(([t]) => t));
  }
  const started = performance.now();
  const base = new Map();
  for (const [t, w] of terms) {
    const p = postings(st, t);
    if (!p) continue;
    for (let k = 0; k < p.rows.length; k++) {
      const row = p.rows[k];
      base.set(row, (base.get(row) || 0) + w * p.idf * p.imps[k]);
    }
  }
  const today = todayDays();
  const docs = st.docs;
  const wantType = TYPE_CODE[opts.type || ""];
  const company = opts.region ? resolveRegion(opts.region, docs.regions, docs.aliases) : null;
  if (q.zones.length) {
    const zoneSet = new Set(q.zones);
    for (const [row, s] of base) {
      const ix = docs.region[row];
      if (ix >= 0 && !appliesTo(docs.regions[ix], zoneSet)) base.set(row, Math.floor((s * ZONE_NUM) / ZONE_DEN));
    }
  }
  const passes = (row) => {
    if (wantType && docs.type[row] !== wantType) return false;
    const s = statusOf(st, row, today);
    if (!opts.includeExpired && (s === "expired" || s === "repealed" || s === "draft")) return false;
    if (company) {
      const ix = docs.region[row];
      if (ix >= 0 && !appliesTo(docs.regions[ix], company)) return false;
    }
    return true;
  };
  const cand = new Map();
  for (const [row, s] of base) if (passes(row)) cand.set(row, s);
  const final = new Map();
  for (const [row, s] of cand) {
    let best = 0;
    for (const x of docs.links[row] || []) best = Math.max(best, cand.get(x) || 0);
    final.set(row, s + Math.floor((LINK_NUM * best) / LINK_DEN));
  }
  const before = new Map(final);
  for (const [row, s] of final) {
    const status = statusOf(st, row, today);
    if (status !== "expired" && status !== "repealed") continue;
    let best = 0;
    for (const x of docs.succ[row] || []) best = Math.max(best, before.get(x) || 0);
    if (best > 0 && s >= best) final.set(row, best - 1);
  }
  const order = [...final.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, top);
  return { st, q, terms, order, today, ms: performance.now() - started };
}

// --- results: snippets with whole matched words ------------------------------------------------

function plain(md) {
  return (md || "").replace(/<[^>]*>/g, " ").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[#*_>`|~]+/g, " ").replace(/\s+/g, " ").trim();
}

// Character ranges of `text` covered by the question's terms: runs of two or more characters
// (bigrams chained into whole words), Latin/digit tokens as a whole.
function matchedRuns(text, termSet, res) {
  const norm = normalise(text, res);
  const n = Math.min(norm.length, text.length);
  const cover = new Uint8Array(n);
  for (let i = 0; i + 1 < n; i++) {
    if (termSet.has(norm.slice(i, i + 2))) { cover[i] = 1; cover[i + 1] = 1; }
  }
  const ascii = /[0-9a-z]+/g;
  let m;
  while ((m = ascii.exec(norm))) {
    if (termSet.has(m[0])) for (let i = m.index; i < m.index + m[0].length && i < n; i++) cover[i] = 1;
  }
  const runs = [];
  for (let i = 0; i < n;) {
    if (!cover[i]) { i++; continue; }
    let j = i;
    while (j < n && cover[j]) j++;
    if (j - i >= 2) runs.push([i, j]);
    i = j;
  }
  return runs;
}

function makeSnippet(doc, termSet, res) {
  const text = plain(doc.text);
  const runs = matchedRuns(text, termSet, res);
  let start = 0;
  if (runs.length) {
    let best = -1;
    for (const [s] of runs) {
      let covered = 0;
      for (const [a, b] of runs) if (a >= s && a < s + SNIPPET_CHARS) covered += Math.min(b, s + SNIPPET_CHARS) - a;
      if (covered > best) { best = covered; start = s; }
    }
    const back = text.lastIndexOf("。", start);
    start = back >= 0 && start - back <= 30 ? back + 1 : Math.max(0, start - 10);
  }
  const end = Math.min(text.length, start + SNIPPET_CHARS);
  const snippet = (start > 0 ? "…" : "") + text.slice(start, end) + (end < text.length ? "…" : "");
  const shift = start > 0 ? 1 - start : 0;
  const marks = runs.filter(([a, b]) => a >= start && b <= end).map(([a, b]) => [a + shift, b + shift]);
  return { snippet, marks };
}

// d/<gen>/<row>.json: [id, type, title, url, region, deadline, text, issue status?] (index.shown)
const SHOWN_KEYS = ["id", "type", "title", "url", "region", "deadline", "text", "issue_status"];
function docOf(row) {
  const d = {};
  SHOWN_KEYS.forEach((k, i) => { if (i < row.length) d[k] = row[i]; });
  return d;
}

async function searchDetailed(question, opts = {}) {
  const { st, terms, order, today, ms } = await ranked(question, opts);
  const termSet = new Set(terms.map(([t]) => t));
  const shown = await Promise.all(order.map(async ([row]) => docOf(await getJSON(new URL(`${st.manifest.dir}${row}.json`, ROOT)))));
  const results = order.map(([row, score], k) => {
    const d = shown[k];
    const { snippet, marks } = makeSnippet(d, termSet, st.res);
    const titleMarks = matchedRuns(d.title, termSet, st.res);
    return { id: d.id, type: d.type, title: d.title, url: new URL(d.url, BASE).href,
      status: statusOf(st, row, today), score: Math.round((score / 510000) * 1e4) / 1e4, snippet,
      region: d.region || "", deadline: d.deadline || "", issueStatus: d.issue_status || "", marks, titleMarks };
  });
  return { results, ms, regions: st.docs.regions };
}

async function search(question, opts = {}) {
  const { results } = await searchDetailed(String(question || ""), opts);
  return results.map(({ marks, titleMarks, issueStatus, ...r }) => r);
}

// --- the results page (search.html) ----------------------------------------------------------

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function renderSnippet(p, snippet, marks) {
  let pos = 0;
  for (const [a, b] of marks) {
    if (a < pos) continue;
    if (a > pos) p.appendChild(document.createTextNode(snippet.slice(pos, a)));
    p.appendChild(el("mark", "", snippet.slice(a, b)));
    pos = b;
  }
  if (pos < snippet.length) p.appendChild(document.createTextNode(snippet.slice(pos)));
}

function renderResult(r) {
  const li = el("li", "pkb-result");
  li.dataset.id = r.id;
  li.dataset.type = r.type;
  if (r.status) li.dataset.status = r.status;
  const head = el("div", "pkb-result__head");
  head.appendChild(el("span", `pkb-result__type pkb-result__type--${r.type}`, TYPE_LABEL[r.type] || r.type));
  if (STATUS_LABEL[r.status]) head.appendChild(el("span", "pkb-result__badge", STATUS_LABEL[r.status]));
  const a = el("a", "pkb-result__title");
  renderSnippet(a, r.title, r.titleMarks || []);
  a.href = r.url;
  head.appendChild(a);
  li.appendChild(head);
  const meta = el("div", "pkb-result__meta");
  if (r.region) meta.appendChild(el("span", "pkb-result__region", `地区：${r.region.split("/").pop()}`));
  if (r.deadline) meta.appendChild(el("span", "pkb-result__deadline", `申报截止：${r.deadline}`));
  if (r.issueStatus) meta.appendChild(el("span", "pkb-result__issue-status", `办理状态：${r.issueStatus}`));
  if (meta.childNodes.length) li.appendChild(meta);
  if (r.snippet) {
    const p = el("p", "pkb-result__snippet");
    renderSnippet(p, r.snippet, r.marks || []);
    li.appendChild(p);
  }
  return li;
}

function initPage() {
  const root = document.getElementById("pkb-search");
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  const form = root.querySelector("form");
  const status = root.querySelector("[data-search-status]");
  const list = root.querySelector("[data-search-results]");
  const fields = { q: form.elements.q, type: form.elements.type, region: form.elements.region, expired: form.elements.expired };
  form.hidden = false;
  const params = new URLSearchParams(location.search);
  fields.q.value = params.get("q") || "";
  if (params.get("type")) fields.type.value = params.get("type");
  if (params.get("region")) fields.region.value = params.get("region");
  fields.expired.checked = params.get("expired") === "1";
  let generation = 0;

  async function run(push) {
    const q = fields.q.value.trim();
    const p = new URLSearchParams();
    if (q) p.set("q", q);
    if (fields.type.value) p.set("type", fields.type.value);
    if (fields.region.value) p.set("region", fields.region.value);
    if (fields.expired.checked) p.set("expired", "1");
    if (push) history.replaceState(null, "", `${location.pathname}${p.toString() ? "?" + p : ""}`);
    list.replaceChildren();
    if (!q) { status.textContent = "请输入问题或关键词。"; return; }
    const mine = ++generation;
    status.textContent = "正在搜索…";
    root.setAttribute("aria-busy", "true");
    try {
      const { results } = await searchDetailed(q, { top: 20, type: fields.type.value || undefined,
        region: fields.region.value || undefined, includeExpired: fields.expired.checked });
      if (mine !== generation) return;
      for (const r of results) list.appendChild(renderResult(r));
      status.textContent = results.length ? `找到 ${results.length} 条结果` :
        "没有找到匹配的政策或问答。可以换个说法，或勾选“包括已失效的政策”。";
    } catch (e) {
      if (mine === generation) status.textContent = "搜索暂时不可用（索引文件读取失败），请稍后重试。";
    } finally {
      if (mine === generation) root.removeAttribute("aria-busy");
    }
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); run(true); });
  for (const f of [fields.type, fields.region, fields.expired]) f.addEventListener("change", () => run(true));
  if (fields.q.value) run(false);
  else status.textContent = "请输入问题或关键词。";
}

window.policykb = Object.assign(window.policykb || {}, { search });
// For tests and tools: the analysis and raw ranking, to compare with the Python reference.
window.policykb._site = { analyse: async (q) => { const st = await load(); return analyseQuery(q, st.res, st.docs); },
  rank: async (q, o) => { const r = await ranked(q, o); return { order: r.order, ms: r.ms }; } };

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initPage);
else initPage();
