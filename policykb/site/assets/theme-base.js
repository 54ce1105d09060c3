/* Material for MkDocs' inline head script (partials/javascripts/base.html, 9.8.1), as a file so the
   site's Content-Security-Policy can forbid inline script. The scope comes from data-md-scope. */
(function () {
  var el = document.currentScript;
  window.__md_scope = new URL((el && el.getAttribute("data-md-scope")) || ".", location);
  window.__md_hash = function (e) { return [].concat(Array.from(e)).reduce(function (h, c) { return (h << 5) - h + c.charCodeAt(0); }, 0); };
  window.__md_get = function (e, store, scope) {
    store = store || localStorage; scope = scope || window.__md_scope;
    return JSON.parse(store.getItem(scope.pathname + "." + e));
  };
  window.__md_set = function (e, value, store, scope) {
    store = store || localStorage; scope = scope || window.__md_scope;
    try { store.setItem(scope.pathname + "." + e, JSON.stringify(value)); } catch (err) { /* storage full or blocked */ }
  };
})();
