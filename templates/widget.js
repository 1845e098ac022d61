(function () {
  var d = document, s = d.getElementById("nd-widget").dataset;
  var fmt = new Intl.NumberFormat(s.locale), last = 0, timer = 0, every = (+s.present || 60) * 1000;
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
  // The server says how often this reader's heartbeat is wanted (a sample of readers at large audiences).
  function figures(j) {
    show("online", j.online); show("total", j.total);
    if (j.heartbeat_seconds > 0 && j.heartbeat_seconds * 1000 !== every) { every = j.heartbeat_seconds * 1000; watch(); }
  }
  function beat() {
    last = Date.now();
    post(s.heartbeat).then(function (j) { if (j) { figures(j); } });
  }
  function visible() { return d.visibilityState === "visible"; }
  function watch() {
    clearInterval(timer);
    if (!visible()) return;
    if (Date.now() - last >= every) beat();
    timer = setInterval(beat, every);
  }
  function start() {
    d.addEventListener("visibilitychange", watch);
    if (s.present !== undefined) last = Date.now();  // the page's request registered the reader
    // A page the browser brings back (back/forward) was counted when first shown.
    var nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    if (!s.beacon || (nav && nav.type === "back_forward")) return watch();
    last = Date.now(); watch();  // the beacon registers the reader: the minute runs from now
    post(s.beacon).then(function (j) {
      if (j) show("views", j.views);
      if (j && j.present) return figures(j);
      last = 0; watch();  // not registered: a heartbeat now
    });
  }
  if (d.prerendering) d.addEventListener("prerenderingchange", start, { once: true });
  else start();
})();
