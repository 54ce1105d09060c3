// policykb's hook into Decap CMS (/admin/ of the internal site): before an entry is saved,
// drop fields the editor left empty. Decap writes an untouched date as `published: ""`, which
// the validator rightly rejects as "not a date"; an absent key means "not filled in".
const isCollection = (v) => v !== null && typeof v === "object" && typeof v.toJS === "function";
const isEmpty = (v) => v === "" || v === null || v === undefined || (isCollection(v) && v.size === 0);

function clean(value) {
  if (!isCollection(value)) return value;
  return value.map(clean).filter((v) => !isEmpty(v));
}

function withoutEmptyFields({ entry }) {
  const data = entry.get("data");
  const body = data.get("body");
  const cleaned = clean(data.delete("body"));
  return body === undefined ? cleaned : cleaned.set("body", body);
}

if (window.CMS) {
  window.CMS.registerEventListener({ name: "preSave", handler: withoutEmptyFields });
} else {
  document.body.insertAdjacentHTML("afterbegin",
    "<p role=\"alert\">没有加载到 Decap CMS（decap-cms.js）。请联系网站维护人员重新生成内部网站。</p>");
}
