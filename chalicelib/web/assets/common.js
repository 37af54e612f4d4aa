/* Shared by every page: the API client, DOM building without innerHTML, JST formatting, and the
   Japanese message for every error code. Exposed as window.OP. */
"use strict";

(function () {
  const root = document.documentElement;
  const BASE = root.dataset.base || "";
  const JST_OFFSET_MS = 9 * 60 * 60 * 1000; // Japan has no daylight saving time

  const MESSAGES = {
    network_error: "通信できませんでした。電波の届く場所で、もう一度お試しください。",
    invalid_request: "入力内容を確認してください。",
    invalid_qr: "QRコードを読み取れませんでした。お店のQRコードをもう一度読み取ってください。",
    unauthenticated: "ログインの有効期限が切れました。もう一度ログインしてください。",
    forbidden: "この操作は許可されていません。",
    not_found: "見つかりませんでした。",
    insufficient_points: "ポイント残高が足りません。",
    merchant_unavailable: "このお店は現在ご利用いただけません。",
    already_cancelled: "この決済はすでに取り消されています。",
    cancel_window_expired: "取消できる期間を過ぎています。商工会にお問い合わせください。",
    idempotency_key_reused: "お支払いの内容が変わりました。最初からやり直してください。",
    idempotency_in_progress: "同じお支払いを処理中です。少し待ってからもう一度お試しください。",
    too_many_attempts: "ログインに5回失敗したため、15分間ログインできません。時間をおいてお試しください。",
    conflict: "ほかの操作と重なりました。もう一度お試しください。",
    claim_code_not_found: "受取コードが見つかりません。入力に誤りがないか、有効期限が過ぎていないかご確認ください。",
    claim_code_used: "この受取コードはすでに使われています。",
    internal_error: "サーバーで問題が発生しました。時間をおいてもう一度お試しください。",
  };

  class ApiError extends Error {
    constructor(status, code, message, param) {
      super(message);
      this.status = status;
      this.code = code;
      this.param = param || null;
    }
  }

  function cookie(name) {
    for (const part of document.cookie.split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
    }
    return "";
  }

  /* Calls the JSON API on this origin. Console and operator pages authenticate with the HttpOnly
     session cookie and send the csrf cookie back as X-CSRF-Token on every state-changing request;
     the pay pages pass a bearer token instead. Rejects with an ApiError whose code is the API's
     error code, or "network_error" when no answer arrived. */
  async function api(method, path, options) {
    const opts = options || {};
    const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
    let body;
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    if (opts.token) {
      headers.Authorization = "Bearer " + opts.token;
    } else if (method !== "GET" && method !== "HEAD") {
      const csrf = cookie("__Host-csrf") || cookie("csrf");
      if (csrf) headers["X-CSRF-Token"] = csrf;
    }
    let response;
    let text;
    try {
      response = await fetch(BASE + path, { method, headers, body, credentials: "same-origin", cache: "no-store" });
      text = await response.text();
    } catch (err) {
      throw new ApiError(0, "network_error", MESSAGES.network_error);
    }
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (err) {
        data = null;
      }
    }
    if (!response.ok) {
      const e = (data && data.error) || {};
      const code = e.code || (response.status >= 500 ? "internal_error" : "invalid_request");
      throw new ApiError(response.status, code, e.message || MESSAGES[code] || MESSAGES.internal_error, e.param);
    }
    return data;
  }

  /* The message to show a person for an error: ours for codes people meet in normal use, the
     server's own text (already Japanese) for input problems it can describe precisely. */
  function messageFor(err, overrides) {
    const table = Object.assign({}, MESSAGES, overrides || {});
    if (!(err instanceof ApiError)) return MESSAGES.internal_error;
    // Input problems and clashes (a Zengin file being made, a payout already marked) are explained by
    // the server in Japanese and more precisely than any generic text of ours.
    if ((err.code === "invalid_request" || err.code === "conflict") && err.message && !(overrides && overrides[err.code])) {
      return err.message;
    }
    return table[err.code] || err.message || MESSAGES.internal_error;
  }

  /* h("td", {class: "num", text: "500"}, child, ...): elements only through createElement and
     textContent, so data from the API can never become markup. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") el.textContent = String(value);
      else if (key === "class") el.className = value;
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(el.dataset, value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function $(id) {
    return document.getElementById(id);
  }

  function setText(id, value) {
    const el = $(id);
    if (el) el.textContent = value === undefined || value === null ? "" : String(value);
  }

  function showMessage(text, kind) {
    const el = $("message");
    if (!el) return;
    el.textContent = text;
    el.className = "message " + (kind || "error");
    el.hidden = false;
    if (el.getBoundingClientRect().bottom < 0 || el.getBoundingClientRect().top > window.innerHeight) {
      el.scrollIntoView({ block: "nearest" });
    }
  }

  function clearMessage() {
    const el = $("message");
    if (el) {
      el.hidden = true;
      el.textContent = "";
    }
  }

  function points(n) {
    return Number(n).toLocaleString("ja-JP");
  }

  function jstParts(date) {
    // Shifting by +9h and reading the UTC fields gives the wall clock in Japan in any browser zone.
    const iso = new Date(date.getTime() + JST_OFFSET_MS).toISOString();
    return { date: iso.slice(0, 10), minute: iso.slice(0, 16), second: iso.slice(0, 19) };
  }

  /* "2026-11-01T09:05:03.120+09:00" -> "2026/11/01 09:05:03" (JST). */
  function formatTime(iso) {
    if (!iso) return "";
    if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return formatDate(iso); // a calendar date has no time of day
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const s = jstParts(d).second;
    return s.slice(0, 10).replace(/-/g, "/") + " " + s.slice(11, 19);
  }

  function formatDate(isoDate) {
    if (!isoDate) return "";
    return String(isoDate).slice(0, 10).replace(/-/g, "/");
  }

  /* The current minute in Japan as a datetime-local value: "2026-11-01T09:05". */
  function nowMinuteJst() {
    return jstParts(new Date()).minute;
  }

  function todayJst() {
    return jstParts(new Date()).date;
  }

  function addDays(isoDate, days) {
    const d = new Date(isoDate + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  function goto(path) {
    window.location.assign(BASE + path);
  }

  /* The query a page keeps across a login: its range and filter, nothing else. */
  const KEPT = { from: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, to: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/,
    status: /^(completed|cancelled)$/ };
  function keptQuery(search) {
    const params = new URLSearchParams(search === undefined ? window.location.search : search);
    const out = new URLSearchParams();
    for (const [key, pattern] of Object.entries(KEPT)) {
      const value = params.get(key);
      if (value && pattern.test(value)) out.set(key, value);
    }
    const text = out.toString();
    return text ? "?" + text : "";
  }

  /* The login page's address that comes back to this page, with its range. */
  function loginUrl(areaPath, expired) {
    const params = new URLSearchParams(keptQuery().slice(1));
    const out = new URLSearchParams({ next: root.dataset.page || "" });
    for (const [k, v] of params) out.set(k, v);
    if (expired) out.set("expired", "1");
    return BASE + areaPath + "/login?" + out.toString();
  }

  /* A lost session, said plainly where the page shows its messages, with a way back that keeps the
     range: the page does not jump away while someone is looking at it. */
  function showSessionLost(areaPath) {
    const el = $("message");
    if (!el) {
      window.location.assign(loginUrl(areaPath, true));
      return;
    }
    el.replaceChildren(h("strong", { text: "ログインが切れました。" }), " 続けるには、もう一度ログインしてください。 ",
      h("a", { href: loginUrl(areaPath, true), id: "relogin-link", text: "ログインする" }));
    el.className = "message error";
    el.hidden = false;
    el.scrollIntoView({ block: "nearest" });
  }

  /* A message right under the control that was used (a button in a panel far down the page), so
     the answer is seen where the person is looking. One per container, replaced on the next use. */
  function showNear(anchor, text, kind) {
    const host = anchor.closest(".actions, .form-actions, .cell-actions, td, form, .panel") || anchor.parentElement;
    let el = host.nextElementSibling;
    if (!el || !el.classList.contains("inline-message")) {
      el = h("p", { class: "inline-message", role: kind === "ok" ? "status" : "alert" });
      host.after(el);
    }
    el.textContent = text;
    el.className = "inline-message message " + (kind || "error");
    el.hidden = false;
    el.scrollIntoView({ block: "nearest", behavior: "instant" });
    return el;
  }

  function clearNear(anchor) {
    const host = anchor.closest(".actions, .form-actions, .cell-actions, td, form, .panel") || anchor.parentElement;
    const el = host && host.nextElementSibling;
    if (el && el.classList.contains("inline-message")) el.remove();
  }

  /* Labels every cell of a table body with its column header, for the one-card-per-row phone layout. */
  function labelCells(table) {
    const heads = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim());
    for (const row of table.tBodies[0].rows) {
      Array.from(row.cells).forEach((cell, i) => {
        if (heads[i]) cell.dataset.label = heads[i];
      });
    }
  }

  function download(url, filename) {
    const a = h("a", { href: url, download: filename || "", rel: "noopener" });
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
  }

  /* Console and operator pages: the login form, then on to the page that sent us here. */
  function initLogin(areaPath, pages, defaultPage, areaName) {
    const role = root.dataset.loginRole;
    const params = new URLSearchParams(window.location.search);
    const wanted = params.get("next");
    const next = pages.includes(wanted) ? wanted : defaultPage;
    const form = $("login-form");
    const button = $("login-button");
    if (params.get("expired") === "1") showMessage(MESSAGES.unauthenticated, "info");
    $("login-id").focus();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage();
      const loginId = $("login-id").value.trim();
      const password = $("password").value;
      if (!loginId || !password) {
        showMessage("ログインIDとパスワードを入力してください。");
        return;
      }
      button.disabled = true;
      try {
        const result = await api("POST", "/v1/auth/login", { body: { login_id: loginId, password } });
        if (result.role !== role) {
          await api("POST", "/v1/auth/logout").catch(() => null);
          showMessage("このログインIDでは" + areaName + "にログインできません。");
          return;
        }
        // a clerk starts at the register view (the console's own start page is the history, for the others)
        const target = result.staff_role === "clerk" && (!wanted || wanted === defaultPage) ? "register" : next;
        if (result.must_change_password) {
          goto(areaPath + "/password?next=" + encodeURIComponent(target));
          return;
        }
        goto(areaPath + "/" + target + keptQuery());
      } catch (err) {
        // The server's own words for a refused login (wrong password, or access withdrawn).
        showMessage(err instanceof ApiError && err.code === "unauthenticated" && err.message ? err.message
          : messageFor(err, {
            unauthenticated: "ログインIDまたはパスワードが違います。",
            invalid_request: "ログインIDとパスワードを入力してください。",
          }));
        $("password").value = "";
        $("password").focus();
      } finally {
        button.disabled = false;
      }
    });
  }

  /* What every page behind a login does with an error: a lost session goes back to the login page. */
  function handleError(err, areaPath, overrides, anchor) {
    if (err instanceof ApiError && err.status === 401) {
      showSessionLost(areaPath);
      return;
    }
    if (err instanceof ApiError && err.code === "password_change_required") {
      // the change form itself stays put (its own header calls may answer this too)
      if (root.dataset.page !== "password") {
        goto(areaPath + "/password?next=" + encodeURIComponent(root.dataset.page || ""));
      }
      return;
    }
    if (anchor) showNear(anchor, messageFor(err, overrides));
    else showMessage(messageFor(err, overrides));
  }

  function wireLogout(areaPath) {
    const button = $("logout");
    if (!button) return;
    button.addEventListener("click", async () => {
      button.disabled = true;
      await api("POST", "/v1/auth/logout").catch(() => null);
      goto(areaPath + "/login");
    });
  }

  function safeUrl(url) {
    try {
      const u = new URL(url, window.location.href);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch (err) {
      return null;
    }
  }

  /* 操作履歴 (console owner and operator): the audit log, newest first, with "more" and a CSV link. */
  const AUDIT_ROLES = { operator: "商工会", owner: "オーナー", manager: "マネージャー", clerk: "レジ担当" };

  function initAuditPage(areaPath, listPath, exportPath, showMerchant) {
    const tbody = $("audit-table").tBodies[0];
    const more = $("more");
    let cursor = null;
    if (!showMerchant) {
      for (const cell of document.querySelectorAll(".col-merchant")) cell.remove();
    }
    function row(item) {
      const actor = item.actor + (item.actor_role ? "(" + (AUDIT_ROLES[item.actor_role] || item.actor_role) + ")" : "");
      const cells = [
        h("td", { text: formatTime(item.at) }),
        h("td", { text: item.action_label, dataset: { action: item.action } }),
        h("td", { class: "mono", text: actor }),
        h("td", { class: "mono", text: item.target }),
      ];
      if (showMerchant) cells.push(h("td", { class: "mono", text: item.merchant_id || "商工会" }));
      cells.push(h("td", { class: "mono", text: item.ip }), h("td", { text: item.detail }));
      return h("tr", { dataset: { action: item.action } }, ...cells);
    }
    async function load(fresh) {
      more.disabled = true;
      try {
        const body = await api("GET", listPath + "?limit=50" + (cursor && !fresh ? "&cursor=" + encodeURIComponent(cursor) : ""));
        if (fresh) tbody.replaceChildren();
        for (const item of body.items) tbody.append(row(item));
        labelCells($("audit-table"));
        cursor = body.next_cursor;
        more.hidden = !cursor;
        $("empty").hidden = tbody.rows.length > 0;
      } catch (err) {
        handleError(err, areaPath);
      } finally {
        more.disabled = false;
      }
    }
    more.addEventListener("click", () => load(false));
    $("audit-export").addEventListener("click", async () => {
      const button = $("audit-export");
      clearMessage();
      button.disabled = true;
      try {
        const link = await api("POST", exportPath);
        const url = safeUrl(link.url);
        if (!url) throw new ApiError(500, "internal_error", MESSAGES.internal_error);
        download(url, link.filename);
        showMessage(`${points(link.rows)}件の記録をCSVファイルに書き出しました。`, "ok");
      } catch (err) {
        handleError(err, areaPath);
      } finally {
        button.disabled = false;
      }
    });
    load(true);
  }

  window.OP = {
    BASE, MESSAGES, ApiError, api, messageFor, h, $, setText, showMessage, clearMessage, points, formatTime,
    formatDate, nowMinuteJst, todayJst, addDays, goto, labelCells, cookie, download, initLogin, handleError,
    wireLogout, safeUrl, keptQuery, loginUrl, showSessionLost, showNear, clearNear, jstParts, initAuditPage,
  };
})();
