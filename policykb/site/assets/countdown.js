/* Countdowns computed where they are read. Pages carry dates (data-countdown, data-deadline-state,
   data-deadline-badge, data-expires: YYYY-MM-DD); the text written at build time is the fallback
   without JavaScript. Labels follow policykb.site.views (deadline_state, days_left_text). */
export const SOON_DAYS = 30;
const DAY = 86400000;

export function parseDay(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3]) : null;
}

export function today(now = new Date()) {
  return Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
}

export function daysLeft(deadline, now) {
  const d = parseDay(deadline);
  return d === null ? null : Math.round((d - today(now)) / DAY);
}

export function stateOf(days) {
  if (days === null) return "未设截止日期";
  if (days < 0) return "申报已截止";
  return days <= SOON_DAYS ? "即将截止" : "申报中";
}

export function daysText(days) {
  if (days === null) return "";
  if (days < 0) return "已截止";
  return days === 0 ? "今天截止" : `剩余 ${days} 天`;
}

function setStateClass(el, prefix, state) {
  Array.from(el.classList).filter((c) => c.startsWith(prefix)).forEach((c) => el.classList.remove(c));
  el.classList.add(prefix + state);
}

export function applyCountdowns(root = document, now = new Date()) {
  root.querySelectorAll("[data-countdown]").forEach((el) => {
    el.textContent = daysText(daysLeft(el.getAttribute("data-countdown"), now));
  });
  root.querySelectorAll("[data-deadline-state]").forEach((el) => {
    const days = daysLeft(el.getAttribute("data-deadline-state"), now);
    const state = stateOf(days);
    const inner = el.querySelector("[data-countdown]");
    if (!inner) el.textContent = state + (el.hasAttribute("data-with-days") && days !== null && days >= 0 ? " · " + daysText(days) : "");
    setStateClass(el, "pkb-state--", state);
  });
  root.querySelectorAll("[data-deadline-badge]").forEach((el) => {
    const days = daysLeft(el.getAttribute("data-deadline-badge"), now);
    setStateClass(el, "pkb-deadline--", days === null ? "open" : days < 0 ? "closed" : days <= 7 ? "soon" : "open");
  });
  root.querySelectorAll("tr[data-deadline]").forEach((row) => {  // catalogue rows: the status filter
    const d = row.getAttribute("data-deadline");
    if (d) row.setAttribute("data-status", stateOf(daysLeft(d, now)));
  });
  root.querySelectorAll("[data-expires]").forEach((el) => {
    const days = daysLeft(el.getAttribute("data-expires"), now);
    el.hidden = !(days !== null && days < 0);
  });
}

applyCountdowns();
if (window.document$ && window.document$.subscribe) window.document$.subscribe(() => applyCountdowns());
