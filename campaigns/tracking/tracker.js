/* The CRM's web-activity script for the operator's own website: cookie banner, page views and
   downloads after a tracked e-mail click. No inline code, no eval: it runs under a strict CSP.
   Nothing is stored before the visitor accepts; Global Privacy Control means refuse. */
(function () {
  "use strict";
  var TEXTS = __TEXTS__;
  var PRIVACY_URL = __PRIVACY_URL__;
  var COOKIE = "crm_visitor";
  var PARAMETER = "crm_v";
  var DOWNLOADS = /\.(pdf|zip|docx?|xlsx?|pptx?|odt|ods|odp|csv|epub|mp3|mp4|dmg|exe)$/i;
  var script = document.currentScript;
  var crm = new URL(script.src).origin;
  var maxAge = Number(script.getAttribute("data-cookie-days") || __COOKIE_DAYS__) * 86400;

  function language() {
    var wanted = (document.documentElement.lang || navigator.language || "en").slice(0, 2);
    return TEXTS[wanted] ? wanted : "en";
  }

  function readCookie() {
    var found = document.cookie.split("; ").filter(function (pair) {
      return pair.indexOf(COOKIE + "=") === 0;
    })[0];
    return found ? decodeURIComponent(found.slice(COOKIE.length + 1)) : "";
  }

  function writeCookie(value) {
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = COOKIE + "=" + encodeURIComponent(value) + "; Path=/; Max-Age=" + maxAge +
      "; SameSite=Lax" + secure;
  }

  function dropCookie() {
    document.cookie = COOKIE + "=; Path=/; Max-Age=0; SameSite=Lax";
  }

  function takeReference() {
    var url = new URL(location.href);
    var reference = url.searchParams.get(PARAMETER) || "";
    if (reference) {
      url.searchParams.delete(PARAMETER);
      history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    }
    return reference;
  }

  function post(path, data) {
    return fetch(crm + path, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "text/plain" },
      body: JSON.stringify(data)
    }).then(function (response) {
      return response.ok ? response.json() : {};
    });
  }

  function beacon(kind, address, title) {
    var visitor = readCookie();
    if (!visitor) return;
    var data = JSON.stringify({
      visitor: visitor,
      kind: kind,
      page: address,
      title: title,
      referrer: kind === "page_view" ? document.referrer : location.href
    });
    var body = new Blob([data], { type: "text/plain" });
    if (!navigator.sendBeacon || !navigator.sendBeacon(crm + "/t/w/beacon", body)) {
      fetch(crm + "/t/w/beacon", { method: "POST", mode: "no-cors", body: data, keepalive: true });
    }
  }

  function pageView() {
    beacon("page_view", location.origin + location.pathname, document.title);
  }

  function watchDownloads() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[href]") : null;
      if (!link) return;
      var target = new URL(link.href, location.href);
      if (link.hasAttribute("download") || DOWNLOADS.test(target.pathname)) {
        var name = (link.textContent || "").trim() || target.pathname.split("/").pop();
        beacon("download", target.origin + target.pathname, name);
      }
    });
  }

  function button(text, name) {
    var element = document.createElement("button");
    element.type = "button";
    element.textContent = text;
    element.name = name;
    Object.assign(element.style, {
      font: "inherit", padding: "0.5em 1.2em", margin: "0.3em 0.6em 0.3em 0",
      border: "2px solid #1b3a57", borderRadius: "4px", background: "#fff", color: "#1b3a57",
      cursor: "pointer"
    });
    return element;
  }

  function banner(texts, onChoice, withdrawOnly) {
    var old = document.getElementById("crm-cookie-banner");
    if (old) old.remove();
    var box = document.createElement("div");
    box.id = "crm-cookie-banner";
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", texts.label);
    Object.assign(box.style, {
      position: "fixed", left: "1em", right: "1em", bottom: "1em", zIndex: "2147483647",
      background: "#fff", color: "#111", border: "2px solid #1b3a57", borderRadius: "6px",
      padding: "1em 1.2em", boxShadow: "0 2px 12px rgba(0,0,0,.25)", maxWidth: "46em"
    });
    var text = document.createElement("p");
    text.textContent = withdrawOnly ? texts.settings : texts.text;
    text.style.margin = "0 0 0.6em";
    box.appendChild(text);
    var privacy = document.createElement("a");
    privacy.href = PRIVACY_URL;
    privacy.textContent = texts.privacy;
    box.appendChild(privacy);
    var row = document.createElement("div");
    row.style.marginTop = "0.6em";
    box.appendChild(row);
    function close(choice) {
      box.remove();
      onChoice(choice);
    }
    if (withdrawOnly) {
      var stop = button(texts.withdraw, "refuse");
      stop.addEventListener("click", function () { close("refuse"); });
      row.appendChild(stop);
    } else {
      var accept = button(texts.accept, "accept");
      var refuse = button(texts.refuse, "refuse");
      var choose = button(texts.choose, "choose");
      accept.addEventListener("click", function () { close("accept"); });
      refuse.addEventListener("click", function () { close("refuse"); });
      choose.addEventListener("click", function () {
        choose.remove();
        var label = document.createElement("label");
        var box2 = document.createElement("input");
        box2.type = "checkbox";
        box2.name = "web_activity";
        label.appendChild(box2);
        label.appendChild(document.createTextNode(" " + texts.option));
        label.style.display = "block";
        var save = button(texts.save, "save");
        save.addEventListener("click", function () { close(box2.checked ? "accept" : "refuse"); });
        row.appendChild(label);
        row.appendChild(save);
      });
      row.appendChild(accept);
      row.appendChild(refuse);
      row.appendChild(choose);
    }
    document.body.appendChild(box);
  }

  function start() {
    var reference = takeReference();
    var texts = TEXTS[language()];
    if (navigator.globalPrivacyControl) {
      dropCookie();
      return;
    }
    var settingsLinks = document.querySelectorAll("[data-crm-cookie-settings]");
    Array.prototype.forEach.call(settingsLinks, function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var visitor = readCookie();
        if (!visitor) return;
        banner(texts, function (choice) {
          if (choice !== "refuse") return;
          dropCookie();
          post("/t/w/choice", {
            visitor: visitor, choice: "refuse", language: language(), page: location.href
          });
        }, true);
      });
    });
    if (readCookie()) {
      pageView();
      watchDownloads();
      return;
    }
    if (!reference) return;
    banner(texts, function (choice) {
      post("/t/w/choice", {
        reference: reference, choice: choice, language: language(), page: location.href
      }).then(function (answer) {
        if (choice === "accept" && answer.visitor) {
          writeCookie(answer.visitor);
          pageView();
          watchDownloads();
        }
      });
    }, false);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
