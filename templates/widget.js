(function () {
  var d = document, s = d.getElementById("nd-widget").dataset;
  var fmt = new Intl.NumberFormat(s.locale), last = 0, timer = 0;
  function show(name, value) {
    if (typeof value !== "number") return;
    d.querySelectorAll("[data-" + name + "]").forEach(function (el) { el.textContent = fmt.format(value); });
  }
  // Automation (Selenium, Playwright) sets navigator.webdriver: such a browser is not counted.
  var automated = navigator.webdriver === true ? JSON.stringify({ webdriver: true }) : undefined;
  function post(path) {
    return fetch(path, { method: "POST", credentials: "omit", keepalive: true, body: automated })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }
  function beat() {
    last = Date.now();
    post(s.heartbeat).then(function (j) { if (j) { show("online", j.online); show("total", j.total); } });
  }
  function visible() { return d.visibilityState === "visible"; }
  function watch() {
    clearInterval(timer);
    if (!visible()) return;
    if (Date.now() - last >= 60000) beat();
    timer = setInterval(beat, 60000);
  }
  function start() {
    d.addEventListener("visibilitychange", watch);
    if (s.present !== undefined) last = Date.now();  // the page's request registered the reader
    // A page the browser brings back (back/forward) was counted when first shown.
    var nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    if (!s.beacon || (nav && nav.type === "back_forward")) return watch();
    post(s.beacon).then(function (j) {
      if (j) {
        show("views", j.views);
        if (j.present) { last = Date.now(); show("online", j.online); show("total", j.total); }
      }
      watch();
    });
  }
  if (d.prerendering) d.addEventListener("prerenderingchange", start, { once: true });
  else start();
})();
