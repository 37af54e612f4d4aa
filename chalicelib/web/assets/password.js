/* パスワード変更: the form of the console and the operator pages. The server decides every rule; the
   page only checks that the two new entries match, shows the server's message next to the form, and
   on success goes on to the page the person came for (the session is renewed by the answer). */
"use strict";
(function () {
  function $(id) { return document.getElementById(id); }

  function cookie(name) {
    const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  function show(text, kind) {
    const box = $("password-message");
    box.textContent = text;
    box.className = "message " + kind;
    box.hidden = false;
    box.focus && box.setAttribute("tabindex", "-1");
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.documentElement;
    const base = root.dataset.base || "";
    const area = root.dataset.area === "admin" ? "/admin" : "/console";
    const params = new URLSearchParams(location.search);
    const next = /^[a-z-]+$/.test(params.get("next") || "") ? params.get("next") : "";
    if (params.has("next")) $("must-change").hidden = false;
    $("password-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const current = $("current-password").value;
      const fresh = $("new-password").value;
      if (fresh !== $("new-password-again").value) {
        show("新しいパスワードが2回とも同じになるように入力してください。", "error");
        return;
      }
      const button = $("password-button");
      button.disabled = true;
      try {
        const response = await fetch(base + "/v1/auth/password", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json",
                     "X-CSRF-Token": cookie("__Host-csrf") || cookie("csrf") },
          body: JSON.stringify({ current_password: current, new_password: fresh }),
        });
        const body = await response.json().catch(() => ({}));
        if (response.ok) {
          show("パスワードを変更しました。", "ok");
          location.assign(base + area + "/" + (next || ""));
          return;
        }
        if (response.status === 401 && body.error && body.error.message.indexOf("パスワード") < 0) {
          location.assign(base + area + "/login?next=password");
          return;
        }
        show((body.error && body.error.message) || "変更できませんでした。時間をおいてもう一度お試しください。", "error");
      } catch (e) {
        show("通信できませんでした。接続を確かめてもう一度お試しください。", "error");
      } finally {
        button.disabled = false;
      }
    });
  });
})();
