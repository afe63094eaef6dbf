// The live count of a segment's change form. Loaded as a static file (no inline script): it reads
// the count endpoint's address from the page and asks it whenever the criteria change. Widgets
// that change values without events (autocomplete, select boxes) are covered by comparing the
// form's values twice a second; the server is asked only when they changed, and at most one
// request is in flight.
(function () {
  "use strict";
  const FIELDS = ["companies", "industries", "countries", "relationships", "sources", "tags",
    "active_within_days", "rules"];
  const QUIET_MS = 400;

  function start() {
    const output = document.getElementById("segment-live-count");
    const form = output && output.closest("form") || document.querySelector("#segment_form");
    if (!output || !form) {
      return;
    }
    const url = output.dataset.countUrl;
    let lastAsked = null;
    let pending = false;
    let changedAt = 0;
    let lastSeen = null;

    function query() {
      const params = new URLSearchParams();
      const data = new FormData(form);
      for (const name of FIELDS) {
        for (const value of data.getAll(name)) {
          if (value !== "") {
            params.append(name, value);
          }
        }
      }
      return params.toString();
    }

    function ask(current) {
      pending = true;
      lastAsked = current;
      output.textContent = "Counting…";
      fetch(`${url}?${current}`, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then((response) => response.json().then((body) => ({ok: response.ok, body})))
        .then(({ok, body}) => {
          output.textContent = ok ? `Matches ${body.text} now.` : "Check the highlighted criteria.";
          showPreview(ok ? body.preview : null);
        })
        .catch(() => {
          output.textContent = "The count is not available right now.";
        })
        .finally(() => {
          pending = false;
        });
    }

    function showPreview(rows) {
      const table = document.getElementById("segment-preview");
      if (!table) {
        return;
      }
      const body = table.querySelector("tbody");
      body.replaceChildren();
      table.hidden = !rows || rows.length === 0;
      for (const row of rows || []) {
        const line = document.createElement("tr");
        const name = document.createElement("td");
        const link = document.createElement("a");
        link.href = row.url;
        link.textContent = row.name || row.email || `#${row.id}`;
        name.append(link);
        line.append(name);
        for (const key of ["email", "company", "country", "language"]) {
          const cell = document.createElement("td");
          cell.textContent = row[key];
          line.append(cell);
        }
        body.append(line);
      }
    }

    function tick() {
      const current = query();
      const now = Date.now();
      if (current !== lastSeen) {
        lastSeen = current;
        changedAt = now;
      }
      if (!pending && current !== lastAsked && now - changedAt >= QUIET_MS) {
        ask(current);
      }
    }

    window.setInterval(tick, 250);
    tick();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
