// The status page's buttons and refresh (served as a file: the page's CSP allows no inline
// script). The controller token is asked for once per tab and kept in sessionStorage only:
// never in a URL, a cookie, the page or the console.
"use strict";

(() => {
  const TOKEN_KEY = "easee-exporter.controller-token";
  // The page's words in its language (the server's catalogue), with {name} placeholders.
  const TEXT = (() => {
    try {
      return JSON.parse(document.body.dataset.text || "{}");
    } catch {
      return {};
    }
  })();
  const t = (key, values = {}) =>
    (TEXT[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
  // Charger ids with a command under way: their buttons stay disabled across refreshes.
  const busy = new Set();

  const storedToken = () => {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null; // storage disabled: ask every time
    }
  };

  const storeToken = (token) => {
    try {
      if (token) window.sessionStorage.setItem(TOKEN_KEY, token);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // storage disabled: the token lives only as long as the request
    }
    showForgetButton();
  };

  const showForgetButton = () => {
    // Hidden by visibility, not display: showing it must not move anything.
    const button = document.getElementById("forget-token");
    if (button) button.dataset.off = storedToken() ? "false" : "true";
  };

  // Resolves with the typed token, or null when the user cancels.
  const askToken = () =>
    new Promise((resolve) => {
      const dialog = document.getElementById("token-dialog");
      const input = document.getElementById("token-input");
      input.value = "";
      dialog.returnValue = "";
      dialog.addEventListener(
        "close",
        () => {
          const token = dialog.returnValue === "ok" ? input.value.trim() : "";
          input.value = "";
          resolve(token || null);
        },
        { once: true },
      );
      dialog.showModal();
      input.focus();
    });

  const cardOf = (chargerId) => document.getElementById(`charger-${chargerId}`);

  const say = (chargerId, text, kind) => {
    const card = cardOf(chargerId);
    const outcome = card && card.querySelector(".outcome");
    if (!outcome) return;
    outcome.textContent = text;
    outcome.dataset.kind = kind;
  };

  const setBusy = (chargerId, on) => {
    if (on) busy.add(chargerId);
    else busy.delete(chargerId);
    const card = cardOf(chargerId);
    if (!card) return;
    card.setAttribute("aria-busy", on ? "true" : "false");
    for (const button of card.querySelectorAll("button[data-action]")) button.disabled = on;
  };

  const describe = (action, status, body) => {
    if (status === 200 && body && body.result === "confirmed") {
      return [t("outcome.confirmed", { action }), "ok"];
    }
    if (status === 200 && body && body.result === "unchanged") {
      return [t("outcome.unchanged", { action }), "ok"];
    }
    if (status === 202) return [t("outcome.accepted", { action }), "ok"];
    const detail = body && typeof body.detail === "string" ? body.detail : t("outcome.no_detail");
    return [t("outcome.refused", { action, status, detail }), "error"];
  };

  const run = async (chargerId, action) => {
    const name = t(`button.${action}`);
    let token = storedToken();
    if (!token) {
      token = await askToken();
      if (!token) {
        say(chargerId, t("outcome.cancelled", { action: name }), "info");
        return;
      }
      storeToken(token);
    }
    setBusy(chargerId, true);
    say(chargerId, t("outcome.waiting", { action: name }), "info");
    try {
      const url = `/api/v1/chargers/${encodeURIComponent(chargerId)}/${encodeURIComponent(action)}`;
      let response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { Authorization: `Bearer ${token}` },
          cache: "no-store",
          credentials: "omit",
          referrerPolicy: "no-referrer",
        });
      } catch {
        say(chargerId, t("outcome.no_answer", { action: name }), "error");
        return;
      }
      let body = null;
      try {
        body = await response.json();
      } catch {
        body = null;
      }
      // A refused token is forgotten so that the next click asks again.
      if (response.status === 401) storeToken(null);
      const [text, kind] = describe(name, response.status, body);
      say(chargerId, text, kind);
    } finally {
      setBusy(chargerId, false);
      await refresh();
    }
  };

  // Re-reads the page and swaps each card's live part, keeping the outcome lines.
  let refreshing = false;
  const refresh = async () => {
    if (refreshing) return;
    refreshing = true;
    try {
      const here = window.location.pathname + window.location.search;
      const response = await fetch(here, { cache: "no-store", credentials: "omit" });
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const id of ["overview", "notices"]) {
        const part = fresh.getElementById(id);
        const current = document.getElementById(id);
        if (part && current) {
          current.replaceChildren(...[...part.childNodes].map((n) => document.importNode(n, true)));
        }
      }
      const main = document.getElementById("chargers");
      const newCards = [...fresh.querySelectorAll("article.charger")];
      const oldIds = [...main.querySelectorAll("article.charger")].map((c) => c.dataset.charger);
      const sameSet =
        oldIds.length === newCards.length &&
        newCards.every((card, i) => card.dataset.charger === oldIds[i]);
      if (!sameSet) {
        const outcomes = new Map();
        for (const card of main.querySelectorAll("article.charger")) {
          outcomes.set(card.dataset.charger, card.querySelector(".outcome").cloneNode(true));
        }
        main.replaceChildren(...[...fresh.getElementById("chargers").childNodes].map((n) =>
          document.importNode(n, true),
        ));
        for (const [id, outcome] of outcomes) {
          const card = cardOf(id);
          if (card) card.querySelector(".outcome").replaceWith(outcome);
        }
      } else {
        for (const card of newCards) {
          const current = cardOf(card.dataset.charger);
          current.querySelector(".live").replaceWith(
            document.importNode(card.querySelector(".live"), true),
          );
        }
      }
      for (const id of busy) setBusy(id, true);
      localTimes();
      document.body.dataset.refreshed = String(Date.now());
    } catch {
      // the next refresh tries again; the page keeps what it shows
    } finally {
      refreshing = false;
    }
  };

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const button = target && target.closest("button[data-action]");
    if (button && button.getAttribute("aria-disabled") === "true") {
      // A button that cannot work says why (its title), also where there is no hover.
      const card = button.closest("article.charger");
      if (card) say(card.dataset.charger, button.title, "info");
      return;
    }
    if (button) {
      const card = button.closest("article.charger");
      if (card && !busy.has(card.dataset.charger)) run(card.dataset.charger, button.dataset.action);
      return;
    }
    if (target && target.closest("#forget-token")) storeToken(null);
    // Cancel is a plain button so that Enter in the field submits the form ("Send").
    if (target && target.closest("#token-cancel")) {
      document.getElementById("token-dialog").close("cancel");
    }
  });

  // Times of day (a rate limit's end) in the browser's own time zone.
  const localTimes = () => {
    for (const element of document.querySelectorAll("time[datetime]")) {
      const at = new Date(element.getAttribute("datetime"));
      if (Number.isNaN(at.getTime())) continue;
      element.textContent = at.toLocaleTimeString(document.documentElement.lang, {
        hour: "2-digit",
        minute: "2-digit",
      });
    }
  };

  const start = () => {
    showForgetButton();
    localTimes();
    const seconds = Number(document.body.dataset.refresh) || 10;
    window.setInterval(() => {
      if (document.visibilityState === "visible") refresh();
    }, seconds * 1000);
    document.body.dataset.ready = "true";
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
