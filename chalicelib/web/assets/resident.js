/* Residents' accounts on the pay pages: sign in, create an account, confirm the email address, and
   stay signed in. The API fronts the stage's Cognito user pool (same origin); the access token it
   returns is what the pay flow sends as its bearer token (kept for this tab, as the development
   login's is), and the refresh token (kept on this device) signs the resident in again when the
   access token has expired. After a sign-in the page reloads, so the pay flow starts as usual and
   keeps whatever the address carried (e.g. ?code= from a letter). */
"use strict";

(function () {
  const OP = window.OP;
  const { $, api, showMessage, clearMessage } = OP;
  const root = document.documentElement;
  const TOKEN_KEY = "onagawa.consumerToken";
  const REFRESH_KEY = "onagawa.residentRefresh";
  const EMAIL_KEY = "onagawa.residentEmail";
  if (root.dataset.residentLogin !== "1") return;

  function signedIn(result) {
    sessionStorage.setItem(TOKEN_KEY, result.token);
    if (result.refresh_token) localStorage.setItem(REFRESH_KEY, result.refresh_token);
    window.location.replace(window.location.href);
  }

  let pending = "";
  let refreshing = false;
  async function refresh() {
    const saved = localStorage.getItem(REFRESH_KEY);
    if (!saved || refreshing || sessionStorage.getItem(TOKEN_KEY)) return;
    // at most once a minute: a token the API keeps refusing must not reload the page in a loop
    const last = Number(sessionStorage.getItem("onagawa.residentRefreshedAt") || "0");
    if (Date.now() - last < 60000) return;
    sessionStorage.setItem("onagawa.residentRefreshedAt", String(Date.now()));
    refreshing = true;
    try {
      signedIn(await api("POST", "/v1/consumer/refresh", { body: { refresh_token: saved } }));
    } catch (err) {
      if (err instanceof OP.ApiError && err.status === 401) localStorage.removeItem(REFRESH_KEY);
      refreshing = false;
    }
  }

  function busy(button, on) {
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
  }

  function showForm(name) {
    for (const id of ["resident-signin-form", "resident-signup-form", "resident-confirm-form"]) {
      $(id).hidden = id !== name;
    }
    $("show-signup").parentElement.hidden = name !== "resident-signin-form";
    const heading = $(name).querySelector("h2");
    if (heading) heading.focus();
  }

  function messageFor(err) {
    if (err instanceof OP.ApiError && err.code === "invalid_request" && err.param === "email") {
      return "メールアドレスを確かめてください。";
    }
    return OP.messageFor(err, { unauthenticated: err.message || "メールアドレスまたはパスワードが違います。" });
  }

  function initSignIn() {
    const form = $("resident-signin-form");
    if (!form) return;
    const remembered = localStorage.getItem(EMAIL_KEY);
    if (remembered) $("resident-email").value = remembered;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage();
      const email = $("resident-email").value.trim();
      const password = $("resident-password").value;
      if (!email || !password) {
        showMessage("メールアドレスとパスワードを入力してください。");
        return;
      }
      const button = $("resident-signin-button");
      busy(button, true);
      try {
        const result = await api("POST", "/v1/consumer/sign-in", { body: { email, password } });
        localStorage.setItem(EMAIL_KEY, email);
        signedIn(result);
      } catch (err) {
        if (err instanceof OP.ApiError && err.code === "conflict" && err.param === "code") {
          $("confirm-sent").textContent = "メールで届いた確認コードを入力してください。";
          sessionStorage.setItem(EMAIL_KEY, email);
          showForm("resident-confirm-form");
          showMessage(err.message, "info");
        } else {
          showMessage(messageFor(err));
          $("resident-password").value = "";
          $("resident-password").focus();
        }
      } finally {
        busy(button, false);
      }
    });
    $("show-signup").addEventListener("click", () => {
      clearMessage();
      $("signup-email").value = $("resident-email").value.trim();
      showForm("resident-signup-form");
    });
  }

  function initSignUp() {
    const form = $("resident-signup-form");
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage();
      const email = $("signup-email").value.trim();
      const password = $("signup-password").value;
      if (!email || !password) {
        showMessage("メールアドレスとパスワードを入力してください。");
        return;
      }
      if (password !== $("signup-password-again").value) {
        showMessage("パスワードが2回とも同じになるように入力してください。");
        return;
      }
      const button = $("signup-button");
      busy(button, true);
      try {
        const result = await api("POST", "/v1/consumer/sign-up", { body: { email, password } });
        sessionStorage.setItem(EMAIL_KEY, email);
        pending = password; // in memory only, to sign in right after the confirmation
        $("confirm-sent").textContent = result.code_sent_to
          ? result.code_sent_to + " に確認コードを送りました。届いたコードを入力してください。"
          : "メールで届いた確認コードを入力してください。";
        showForm("resident-confirm-form");
      } catch (err) {
        showMessage(messageFor(err));
      } finally {
        busy(button, false);
      }
    });
  }

  function initConfirm() {
    const form = $("resident-confirm-form");
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage();
      const email = sessionStorage.getItem(EMAIL_KEY) || $("resident-email").value.trim();
      const code = $("confirm-code").value.replace(/\s/g, "");
      if (!code) {
        showMessage("確認コードを入力してください。");
        return;
      }
      const button = $("confirm-button");
      busy(button, true);
      try {
        await api("POST", "/v1/consumer/confirm", { body: { email, code } });
        const password = pending;
        pending = "";
        localStorage.setItem(EMAIL_KEY, email);
        if (password) {
          signedIn(await api("POST", "/v1/consumer/sign-in", { body: { email, password } }));
          return;
        }
        $("resident-email").value = email;
        showForm("resident-signin-form");
        showMessage("確認できました。パスワードを入力してログインしてください。", "ok");
        $("resident-password").focus();
      } catch (err) {
        showMessage(messageFor(err));
      } finally {
        busy(button, false);
      }
    });
    $("resend-button").addEventListener("click", async () => {
      clearMessage();
      const email = sessionStorage.getItem(EMAIL_KEY) || $("resident-email").value.trim();
      try {
        await api("POST", "/v1/consumer/resend-code", { body: { email } });
        showMessage("確認コードを送り直しました。", "ok");
      } catch (err) {
        showMessage(messageFor(err));
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    initSignIn();
    initSignUp();
    initConfirm();
    const logout = $("logout");
    if (logout) logout.addEventListener("click", () => localStorage.removeItem(REFRESH_KEY));
    // Whenever the pay flow shows its login screen (no token, or it expired), try the saved refresh
    // token once before asking for the password.
    const screen = $("screen-login");
    if (screen) {
      new MutationObserver(() => { if (!screen.hidden) refresh(); }).observe(screen, { attributes: true });
    }
    refresh();
  });
})();
