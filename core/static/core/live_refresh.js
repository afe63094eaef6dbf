// Live admin blocks without inline script (the CSP allows none): every element with a
// `data-live-refresh` attribute (seconds) and an id is fetched again from the page's own address
// at that interval and replaced by the element with the same id in the answer. Progress of a
// campaign being sent and the operations page move on their own; a failed fetch keeps what is
// shown and tries again at the next tick. The refresh stops once the block says it is done
// (`data-live-done`).
(function () {
  "use strict";

  function refresh(block) {
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live-Refresh": "1" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) {
          return;
        }
        const fresh = new DOMParser().parseFromString(html, "text/html").getElementById(block.id);
        if (fresh) {
          block.replaceWith(fresh);
          watch(fresh);
        }
      })
      .catch(function () { /* the next tick tries again */ });
  }

  function watch(block) {
    const seconds = parseInt(block.dataset.liveRefresh, 10);
    if (!block.id || !(seconds > 0) || block.hasAttribute("data-live-done")) {
      return;
    }
    window.setTimeout(function () { refresh(block); }, seconds * 1000);
  }

  function start() {
    document.querySelectorAll("[data-live-refresh]").forEach(watch);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
