/* Policy catalogue: filter and sort the table in the browser (no server, no libraries).
   Without JavaScript the full table still shows; the filter form stays hidden. An ES module:
   states come from countdown.js, computed for the reader's today. */
import { applyCountdowns } from "./countdown.js";

{

  function values(row, key) {
    var raw = row.getAttribute("data-" + key) || "";
    return raw ? raw.split("|") : [];
  }

  function initCatalogue() {
    var table = document.getElementById("pkb-catalogue");
    var form = document.getElementById("pkb-filters");
    if (table && !form && !table.getAttribute("data-ready")) {  // a later page of a split catalogue
      table.setAttribute("data-ready", "1");
      applyCountdowns(table);
    }
    if (!table || !form || form.getAttribute("data-ready")) return;
    form.setAttribute("data-ready", "1");
    applyCountdowns(table);
    form.hidden = false;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var selects = Array.prototype.slice.call(form.querySelectorAll("select[data-filter]"));
    var text = form.querySelector("[data-filter-text]");
    var sort = form.querySelector("[data-sort]");
    var count = form.querySelector("[data-count]");
    var empty = document.querySelector("[data-empty]");

    // The application states were recomputed for today: rebuild the status choices and counts.
    var statusSelect = form.querySelector("select[data-filter=status]");
    if (statusSelect && !table.getAttribute("data-pages")) {  // a split catalogue keeps the build's counts
      var order = ["即将截止", "申报中", "常年受理", "未设截止日期", "申报已截止"], tally = {};
      rows.forEach(function (r) { var s = r.getAttribute("data-status"); tally[s] = (tally[s] || 0) + 1; });
      while (statusSelect.options.length > 1) statusSelect.remove(1);
      order.filter(function (s) { return tally[s]; }).forEach(function (s) {
        var o = document.createElement("option");
        o.value = s;
        o.textContent = s + "（" + tally[s] + "）";
        statusSelect.appendChild(o);
      });
    }

    // Entry points on the home page link here with ?categories=…&region=…
    var params = new URLSearchParams(window.location.search);
    selects.forEach(function (s) {
      var v = params.get(s.getAttribute("data-filter"));
      if (v && Array.prototype.some.call(s.options, function (o) { return o.value === v; })) s.value = v;
    });
    // The home page's search box falls back to this page with ?q= when the site has no search page.
    if (params.get("text") || params.get("q")) text.value = params.get("text") || params.get("q");
    if (params.get("sort")) sort.value = params.get("sort");

    function sortKey(row, field) {
      return row.getAttribute("data-" + field) || "";
    }

    // A split catalogue (index-2.html, …): the first filter loads the other pages' rows from
    // compact JSON (policykb.site.generate.catalogue_rows) and builds them as the template does,
    // so the filter covers every row.
    var more = (table.getAttribute("data-pages") || "").split("|").filter(Boolean);
    var dataFiles = (table.getAttribute("data-rows") || "").split("|").filter(Boolean);
    var loading = null;

    function cell(tr, label) {
      var td = document.createElement("td");
      td.setAttribute("data-label", label);
      tr.appendChild(td);
      return td;
    }
    function add(parent, tag, cls, text) {
      var e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text !== undefined) e.textContent = text;
      parent.appendChild(e);
      return e;
    }
    function buildRow(r, v) {
      var names = function (list) { return list.map(function (i) { return v[i]; }); };
      var cats = names(r[5]), applies = names(r[6]), types = names(r[7]), support = names(r[8]);
      var issuer = v[r[3]], region = v[r[4]], published = r[9], deadline = r[10], rolling = r[11];
      var tr = document.createElement("tr");
      tr.setAttribute("data-categories", cats.join("|"));
      tr.setAttribute("data-region", applies.join("|"));
      tr.setAttribute("data-enterprise_types", types.join("|"));
      tr.setAttribute("data-support", support.join("|"));
      tr.setAttribute("data-status", deadline ? "" : rolling ? "常年受理" : "未设截止日期");
      tr.setAttribute("data-published", published);
      tr.setAttribute("data-deadline", deadline);
      tr.setAttribute("data-text", [r[1], r[2], issuer, r[12]].join(" "));
      var name = cell(tr, "政策名称");
      var a = add(name, "a", "", r[1]);
      a.href = r[0];
      if (r[2]) { add(name, "br"); add(name, "span", "pkb-muted", r[2]); }
      if (support.length) {
        add(name, "br");
        support.forEach(function (s) { add(name, "span", "pkb-tag", s); });
      }
      cell(tr, "发文机关").textContent = issuer || "—";
      cell(tr, "地区").textContent = region || "—";
      cell(tr, "类别").textContent = cats.join("、") || "—";
      cell(tr, "发布日期").textContent = published;
      var due = cell(tr, "申报截止");
      if (deadline) {
        due.appendChild(document.createTextNode(deadline));
        add(due, "br");
        var st = add(due, "span", "pkb-state");
        st.setAttribute("data-deadline-state", deadline);
        st.setAttribute("data-with-days", "");
        st.setAttribute("data-search-exclude", "");
      } else if (rolling) {
        due.appendChild(document.createTextNode(rolling));
        add(due, "br");
        add(due, "span", "pkb-state pkb-state--常年受理", "常年受理");
      } else {
        add(due, "span", "pkb-muted", "未设截止日期");
      }
      return tr;
    }
    function loadAll() {
      if (!loading) {
        loading = Promise.all(dataFiles.map(function (href) {
          return fetch(href).then(function (r) {
            if (!r.ok) throw new Error(href + ": " + r.status);
            return r.json();
          });
        })).then(function (chunks) {
          chunks.forEach(function (data) {
            data.rows.forEach(function (r) {
              var row = buildRow(r, data.v);
              body.appendChild(row);
              rows.push(row);
            });
          });
          applyCountdowns(table);  // states and countdowns for the reader's today
          var pager = document.querySelector("[data-pager]");
          if (pager) pager.hidden = true;
          table.setAttribute("data-loaded", "all");
        }).catch(function () {  // offline or a stale page: filter the rows at hand
          table.setAttribute("data-loaded", "partial");
        });
      }
      return loading;
    }

    function filtering() {
      return selects.some(function (s) { return s.value; }) || (text.value || "").trim() ||
        sort.value !== "published-desc";
    }

    function apply() {
      if (more.length && !loading && filtering()) {
        loadAll().then(apply);
        return;
      }
      var wanted = selects.map(function (s) { return [s.getAttribute("data-filter"), s.value]; })
        .filter(function (p) { return p[1]; });
      var needle = (text.value || "").trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (row) {
        var ok = wanted.every(function (p) { return values(row, p[0]).indexOf(p[1]) >= 0; });
        if (ok && needle) ok = (row.getAttribute("data-text") || "").toLowerCase().indexOf(needle) >= 0;
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      var order = sort.value.split("-");
      var field = order[0], asc = order[1] === "asc";
      var sorted = rows.slice().sort(function (a, b) {
        var ka = sortKey(a, field), kb = sortKey(b, field);
        if (!ka && !kb) return 0;
        if (!ka) return 1;  // undated rows last either way
        if (!kb) return -1;
        return asc ? ka.localeCompare(kb) : kb.localeCompare(ka);
      });
      sorted.forEach(function (row) { body.appendChild(row); });
      if (!more.length || loading) count.textContent = String(shown);
      if (empty) empty.hidden = shown > 0;
      var q = new URLSearchParams();
      wanted.forEach(function (p) { q.set(p[0], p[1]); });
      if (needle) q.set("text", text.value.trim());
      if (sort.value !== "published-desc") q.set("sort", sort.value);
      var qs = q.toString();
      window.history.replaceState(null, "", window.location.pathname + (qs ? "?" + qs : "") + window.location.hash);
    }

    form.addEventListener("change", apply);
    text.addEventListener("input", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
    form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
    apply();
  }

  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(initCatalogue);
  } else if (document.readyState !== "loading") {
    initCatalogue();
  } else {
    document.addEventListener("DOMContentLoaded", initCatalogue);
  }
}
