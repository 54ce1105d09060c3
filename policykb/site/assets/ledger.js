/* Internal ledger: filter every ledger table by text and sort a table by clicking its header
   (client side, no libraries); overdue / due-this-week flags recomputed for the reader's today.
   Without JavaScript the tables show in full, unsorted, flagged as of the build. */
import { daysLeft } from "./countdown.js";

export const WEEK_DAYS = 7;  // policykb.site.views.WEEK_DAYS

export function flagRows(root = document, now = new Date()) {
  root.querySelectorAll("tr[data-open='1'][data-due]").forEach((row) => {
    const days = daysLeft(row.getAttribute("data-due"), now);
    const flag = row.querySelector("[data-due-flag]");
    if (days === null || !flag) return;
    const overdue = days < 0, week = !overdue && days <= WEEK_DAYS;
    row.classList.toggle("pkb-overdue", overdue);
    row.classList.toggle("pkb-due-week", week);
    flag.textContent = "";
    if (!overdue && !week) return;
    const strong = document.createElement("strong");
    strong.className = overdue ? "pkb-alert" : "pkb-due-flag";
    strong.textContent = overdue ? `超期 ${-days} 天` : "本周到期";
    flag.append(document.createElement("br"), strong);
  });
}

function init() {
  flagRows();
  const form = document.getElementById("pkb-ledger-filters");
  const tables = Array.from(document.querySelectorAll("table[data-ledger-table]"));
  if (!form || !tables.length || form.hasAttribute("data-ready")) return;
  form.setAttribute("data-ready", "1");
  form.hidden = false;
  const box = form.querySelector("[data-ledger-text]");
  const count = form.querySelector("[data-ledger-count]");
  const params = new URLSearchParams(window.location.search);
  if (params.get("q")) box.value = params.get("q");

  function filter() {
    const needle = box.value.trim().toLowerCase();
    let shown = 0, total = 0;
    tables.forEach((t) => Array.from(t.tBodies[0].rows).forEach((row) => {
      const ok = !needle || (row.getAttribute("data-text") || "").toLowerCase().includes(needle);
      row.hidden = !ok;
      total += 1;
      if (ok) shown += 1;
    }));
    count.textContent = needle ? `${shown} / ${total} 行符合条件` : `共 ${total} 行`;
  }

  tables.forEach((table) => {
    Array.from(table.tHead.rows[0].cells).forEach((th) => {
      const key = th.getAttribute("data-sort-key");
      if (!key) return;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "pkb-sort";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", () => {
        const asc = th.getAttribute("aria-sort") !== "ascending";
        Array.from(table.tHead.rows[0].cells).forEach((c) => c.hasAttribute("aria-sort") && c.setAttribute("aria-sort", "none"));
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        const body = table.tBodies[0];
        Array.from(body.rows).sort((a, b) => {
          const ka = a.getAttribute("data-" + key) || "", kb = b.getAttribute("data-" + key) || "";
          if (!ka && !kb) return 0;
          if (!ka) return 1;  // empty values last either way
          if (!kb) return -1;
          return asc ? ka.localeCompare(kb, "zh") : kb.localeCompare(ka, "zh");
        }).forEach((row) => body.appendChild(row));
      });
    });
  });
  box.addEventListener("input", filter);
  form.addEventListener("submit", (e) => { e.preventDefault(); filter(); });
  filter();
}

if (window.document$ && window.document$.subscribe) window.document$.subscribe(init);
else init();
