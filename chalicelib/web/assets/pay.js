/* Consumer pay flow for phones: scan (camera + the vendored jsQR decoder) or paste the shop's
   code -> points -> confirm screen for the clerk -> 支払い完了. And the balance page.

   One Idempotency-Key per attempt: it is made when the confirm screen is shown and reused for
   every retry of that attempt (a lost answer, a double tap), so the server debits at most once.
   The 支払う button is disabled while a request is in flight. */
"use strict";

(function () {
  const OP = window.OP;
  const { h, $, api, setText, showMessage, clearMessage, points, formatTime } = OP;
  const root = document.documentElement;
  const page = root.dataset.page;
  const MAX_POINTS = Number(root.dataset.maxPoints || "100000");
  const TOKEN_KEY = "onagawa.consumerToken";

  const FLOW_KEY = "onagawa.payFlow"; // the shop, the attempt (its Idempotency-Key) and the last result
  /* A claim code from a letter's QR (/pay/?code=...) waits here through the sign-in, in this tab only,
     until it is claimed: the consumer still presses 受け取る. */
  const CLAIM_KEY = "onagawa.claimCode";
  const state = { token: sessionStorage.getItem(TOKEN_KEY) || "", balance: null, qr: "", shop: null, attempt: null,
    done: null };

  /* The flow survives a reload: what was chosen and the attempt's key (so a retry after a reload
     still cannot pay twice) and the completed payment (so 支払い完了 comes back). Same tab only. */
  function saveFlow() {
    sessionStorage.setItem(FLOW_KEY, JSON.stringify({ qr: state.qr, shop: state.shop, attempt: state.attempt,
      done: state.done }));
  }

  function loadFlow() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(FLOW_KEY) || "null");
      if (saved && typeof saved === "object") Object.assign(state, {
        qr: saved.qr || "", shop: saved.shop || null, attempt: saved.attempt || null, done: saved.done || null });
    } catch (err) {
      sessionStorage.removeItem(FLOW_KEY);
    }
  }

  const SCREENS = ["login", "scan", "amount", "confirm", "done", "balance"];
  const FLOW = ["scan", "amount", "confirm", "done"];
  let current = null;
  /* Each step of the pay flow is a history entry, so Back goes one step back inside the flow
     (confirm -> amount -> scan) instead of leaving it; after 支払い完了, Back starts a new payment. */
  function show(name, keepMessage, how) {
    if (!keepMessage) clearMessage();
    for (const s of SCREENS) {
      const el = $("screen-" + s);
      if (el) el.hidden = s !== name;
    }
    if (page === "home" && FLOW.includes(name) && how !== "pop") {
      const entry = { screen: name };
      if (how === "replace" || current === null || current === name || name === "done" || name === "scan") {
        window.history.replaceState(entry, "");
      } else {
        window.history.pushState(entry, "");
      }
    }
    current = name;
    if (name !== "done") stopDoneClock();
    const heading = document.querySelector("#screen-" + name + " h1");
    if (heading) heading.focus();
  }

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function loggedOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(FLOW_KEY);
    state.token = "";
    show("login");
    const pendingCode = sessionStorage.getItem(CLAIM_KEY) || "";
    $("claim-pending").hidden = !pendingCode;
    setText("claim-pending-code", pendingCode);
    if (message) showMessage(message);
    $("dev-login").hidden = root.dataset.devLogin !== "1";
    $("resident-login").hidden = root.dataset.residentLogin !== "1";
    $("no-login").hidden = root.dataset.devLogin === "1" || root.dataset.residentLogin === "1";
  }

  function fail(err, overrides) {
    if (err instanceof OP.ApiError && err.status === 401) {
      if (page === "balance") {
        sessionStorage.removeItem(TOKEN_KEY);
        show("login");
        return;
      }
      loggedOut(OP.MESSAGES.unauthenticated);
      return;
    }
    showMessage(OP.messageFor(err, overrides));
  }

  async function refreshBalance() {
    const wallet = await api("GET", "/v1/wallet", { token: state.token });
    state.balance = wallet.balance;
    setText("scan-balance", points(wallet.balance));
    setText("amount-balance", points(wallet.balance));
    return wallet;
  }

  // -- login (local stage: the development issuer) ---------------------------------------------
  function initLogin() {
    const form = $("dev-login-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage();
      const consumerId = $("consumer-id").value.trim();
      if (!consumerId) {
        showMessage("利用者IDを入力してください。");
        return;
      }
      $("dev-login-button").disabled = true;
      try {
        const result = await api("POST", "/v1/dev/token", { body: { consumer_id: consumerId } });
        state.token = result.token;
        sessionStorage.setItem(TOKEN_KEY, result.token);
        await startScan("replace");
      } catch (err) {
        fail(err, { not_found: "この環境では開発用ログインは使えません。" });
      } finally {
        $("dev-login-button").disabled = false;
      }
    });
  }

  // -- scan -------------------------------------------------------------------------------------
  let stream = null;
  let timer = null;

  async function startScan(how) {
    stopCamera();
    state.qr = "";
    state.shop = null;
    state.attempt = null;
    state.done = null;
    saveFlow();
    show("scan", true, how);
    const pendingCode = sessionStorage.getItem(CLAIM_KEY);
    if (pendingCode) {
      $("claim").open = true;
      $("claim-code").value = pendingCode;
    }
    try {
      await refreshBalance();
    } catch (err) {
      fail(err);
    }
  }

  function stopCamera() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    const video = $("camera-video");
    if (video) video.srcObject = null;
    if ($("camera")) $("camera").hidden = true;
    if ($("camera-button")) $("camera-button").hidden = false;
  }

  function decodeText(code) {
    if (code.binaryData && code.binaryData.length) {
      try {
        return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(code.binaryData));
      } catch (err) {
        /* not UTF-8: fall back to the decoder's own reading */
      }
    }
    return code.data || "";
  }

  async function startCamera() {
    clearMessage();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof window.jsQR !== "function") {
      showMessage("この端末ではカメラで読み取れません。「コードを貼り付ける」をお使いください。");
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false, video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch (err) {
      stream = null;
      showMessage(err && err.name === "NotAllowedError"
        ? "カメラの使用が許可されていません。ブラウザの設定で許可するか、「コードを貼り付ける」をお使いください。"
        : "カメラを起動できませんでした。「コードを貼り付ける」をお使いください。");
      return;
    }
    const video = $("camera-video");
    video.srcObject = stream;
    $("camera").hidden = false;
    $("camera-button").hidden = true;
    try {
      await video.play();
    } catch (err) {
      /* muted inline video plays without a gesture; if not, frames still arrive */
    }
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const tick = () => {
      timer = null;
      if (!stream) return;
      if (video.readyState >= 2 && video.videoWidth > 0) {
        const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
        const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
        const code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
        const text = code ? decodeText(code) : "";
        if (text) {
          stopCamera();
          useCode(text);
          return;
        }
      }
      timer = setTimeout(tick, 150);
    };
    tick();
  }

  async function useCode(raw) {
    clearMessage();
    const code = raw.trim();
    if (!code) {
      showMessage("QRコードの内容を貼り付けてください。");
      return;
    }
    try {
      const shop = await api("GET", "/v1/merchants/lookup?qr=" + encodeURIComponent(code), { token: state.token });
      state.qr = code;
      state.shop = shop;
      saveFlow();
      setText("amount-shop", shop.name_ja);
      $("amount").value = "";
      show("amount");
      $("amount").focus();
    } catch (err) {
      fail(err);
    }
  }

  // -- claim codes (受取コード) ---------------------------------------------------------------------
  const CLAIM_MESSAGES = {
    claim_code_not_found: "受取コードが見つかりません。お手紙の16文字をもう一度確かめてください(有効期限が過ぎたコードも使えません)。",
    claim_code_used: "この受取コードはすでに使われています。1つのコードで受け取れるのは1回だけです。",
    too_many_attempts: "受取コードの入力に10回失敗したため、しばらく受け取れません。1時間ほどたってからお試しください。",
    invalid_request: "受取コードを入力してください。",
  };

  function rememberClaimCode() {
    const params = new URLSearchParams(window.location.search);
    const code = (params.get("code") || "").trim().slice(0, 64);
    if (!code) return;
    sessionStorage.setItem(CLAIM_KEY, code);
    params.delete("code"); // the code stays in this tab only, not in the history or a shared address
    const rest = params.toString();
    window.history.replaceState(window.history.state, "", window.location.pathname + (rest ? "?" + rest : ""));
  }

  let claiming = false;
  async function claimCode(event) {
    event.preventDefault();
    if (claiming) return;
    clearMessage();
    $("claim-result").hidden = true;
    const code = $("claim-code").value.trim();
    if (!code) {
      showMessage(CLAIM_MESSAGES.invalid_request);
      $("claim-code").focus();
      return;
    }
    claiming = true;
    const button = $("claim-button");
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      const result = await api("POST", "/v1/wallet/claims", { token: state.token, body: { code } });
      sessionStorage.removeItem(CLAIM_KEY);
      $("claim-code").value = "";
      state.balance = result.balance;
      setText("scan-balance", points(result.balance));
      setText("amount-balance", points(result.balance));
      $("claim-result").textContent = `${points(result.points)} ポイントを受け取りました(有効期限 ` +
        `${OP.formatDate(result.expires_on)} まで)。残高は ${points(result.balance)} ポイントです。`;
      $("claim-result").hidden = false;
      $("claim").open = false;
    } catch (err) {
      if (err.code === "claim_code_used" || err.code === "claim_code_not_found") sessionStorage.removeItem(CLAIM_KEY);
      fail(err, CLAIM_MESSAGES);
      $("claim-code").focus();
    } finally {
      claiming = false;
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  // -- amount -> confirm -> pay -------------------------------------------------------------------
  function parsePoints(text) {
    // Full-width digits from a Japanese keyboard count as digits; separators are ignored.
    const half = text.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/[,，\s]/g, "");
    return /^[0-9]+$/.test(half) ? Number(half) : NaN;
  }

  function toConfirm(event) {
    event.preventDefault();
    clearMessage();
    const amount = parsePoints($("amount").value);
    if (!Number.isSafeInteger(amount) || amount < 1) {
      showMessage("支払うポイントを1以上の数字で入力してください。");
      $("amount").focus();
      return;
    }
    if (amount > MAX_POINTS) {
      showMessage(`1回に支払えるのは${points(MAX_POINTS)}ポイントまでです。`);
      $("amount").focus();
      return;
    }
    if (state.balance !== null && amount > state.balance) {
      showMessage(`ポイント残高が足りません(残高 ${points(state.balance)} ポイント)。`);
      $("amount").focus();
      return;
    }
    // A new attempt: its key is kept for every retry until the person leaves this screen.
    state.attempt = { key: newKey(), body: { qr: state.qr, amount } };
    saveFlow();
    showConfirm();
  }

  function showConfirm(how) {
    const amount = state.attempt.body.amount;
    setText("confirm-shop", state.shop.name_ja);
    setText("confirm-amount", points(amount));
    setText("confirm-after", state.balance === null ? "-" : points(state.balance - amount));
    resetPayButton("支払う");
    show("confirm", false, how);
  }

  let paying = false;
  function resetPayButton(label) {
    const button = $("pay-button");
    button.disabled = false;
    button.textContent = label;
    button.removeAttribute("aria-busy");
  }

  async function pay() {
    if (paying || !state.attempt) return;
    paying = true;
    const button = $("pay-button");
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = "処理中…";
    $("confirm-back").disabled = true;
    clearMessage();
    const attempt = state.attempt;
    let retryLabel = "支払う";
    try {
      let result = null;
      for (let tries = 0; result === null; tries += 1) {
        try {
          result = await api("POST", "/v1/payments", {
            token: state.token, body: attempt.body, headers: { "Idempotency-Key": attempt.key },
          });
        } catch (err) {
          if (err.code === "idempotency_in_progress" && tries < 5) {
            await sleep(700);
            continue;
          }
          throw err;
        }
      }
      showDone(result);
    } catch (err) {
      if (err.code === "network_error") {
        retryLabel = "もう一度 支払う";
        showMessage("通信できませんでした。電波の届く場所で「もう一度 支払う」を押してください。" +
          "同じお支払いが二重になることはありません。");
      } else if (err.code === "insufficient_points") {
        await refreshBalance().catch(() => null);
        show("amount", true);
        showMessage(`ポイント残高が足りません(残高 ${points(state.balance || 0)} ポイント)。ポイントを修正してください。`);
      } else if (err.code === "merchant_unavailable" || err.code === "invalid_qr") {
        await startScan();
        fail(err);
      } else if (err.code === "idempotency_key_reused") {
        state.attempt = null;
        show("amount", true);
        fail(err);
      } else {
        fail(err);
      }
    } finally {
      paying = false;
      $("confirm-back").disabled = false;
      resetPayButton(retryLabel);
    }
  }

  /* 支払い完了: the amount large, the shop, and what a screenshot cannot copy: a clock that runs and
     the time since the payment, counting up. */
  let doneTimer = null;
  function stopDoneClock() {
    if (doneTimer) clearInterval(doneTimer);
    doneTimer = null;
  }

  function elapsedText(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s >= 3600) return "お支払いから " + Math.floor(s / 3600) + "時間以上たっています";
    const m = Math.floor(s / 60);
    return "お支払いから " + (m ? m + "分" : "") + (s % 60) + "秒";
  }

  function showDone(result, how) {
    state.attempt = null;
    state.done = result;
    saveFlow();
    state.balance = result.balance_after;
    setText("done-time", formatTime(result.completed_at));
    setText("done-shop", result.name_ja || (state.shop && state.shop.name_ja));
    setText("done-amount", points(result.amount));
    setText("done-payment-id", result.payment_id);
    setText("done-balance", points(result.balance_after));
    const paidAt = Date.parse(result.completed_at);
    const tick = () => {
      setText("done-clock", formatTime(new Date().toISOString()).slice(11));
      setText("done-elapsed", Number.isNaN(paidAt) ? "" : elapsedText(Date.now() - paidAt));
    };
    show("done", false, how);
    tick();
    doneTimer = setInterval(tick, 250);
  }

  /* Back and Forward inside the flow. A step whose data is gone (paid, or never chosen) falls back
     to the first step, so Back never shows a confirm screen for a payment already made. */
  function onPop(event) {
    const wanted = (event.state && event.state.screen) || "scan";
    if (!state.token) return;
    stopCamera();
    if (wanted === "done" && state.done) showDone(state.done, "pop");
    else if (wanted === "confirm" && state.attempt && state.shop) showConfirm("pop");
    else if (wanted === "amount" && state.shop && !state.done) {
      setText("amount-shop", state.shop.name_ja);
      show("amount", false, "pop");
    } else startScan("replace");
  }

  function resume() {
    const wanted = (window.history.state && window.history.state.screen) || "";
    loadFlow();
    if (wanted === "done" && state.done) {
      showDone(state.done, "replace");
      refreshBalance().catch(() => null);
      return;
    }
    if ((wanted === "confirm" || wanted === "amount") && state.shop && !state.done) {
      refreshBalance().catch(() => null).then(() => {
        if (wanted === "confirm" && state.attempt) showConfirm("replace");
        else {
          setText("amount-shop", state.shop.name_ja);
          show("amount", false, "replace");
        }
      });
      return;
    }
    startScan("replace");
  }

  function initHome() {
    rememberClaimCode();
    initLogin();
    $("claim-form").addEventListener("submit", claimCode);
    $("camera-button").addEventListener("click", startCamera);
    $("camera-stop").addEventListener("click", stopCamera);
    $("paste-form").addEventListener("submit", (event) => {
      event.preventDefault();
      useCode($("paste-code").value);
    });
    $("amount-form").addEventListener("submit", toConfirm);
    $("amount-back").addEventListener("click", () => startScan("replace"));
    $("confirm-back").addEventListener("click", () => {
      state.attempt = null;
      saveFlow();
      show("amount", false, "replace");
      $("amount").focus();
    });
    $("pay-button").addEventListener("click", pay);
    $("done-again").addEventListener("click", () => startScan());
    window.addEventListener("pagehide", stopCamera);
    window.addEventListener("popstate", onPop);
    if (state.token) resume();
    else loggedOut();
  }

  // -- balance page -----------------------------------------------------------------------------
  const STATUS = { completed: "完了", cancelled: "取消" };

  function historyItem(p) {
    return h("li", { class: p.status },
      h("span", { class: "h-shop", text: p.name_ja }),
      h("span", { class: "h-amount", text: "-" + points(p.amount) + " ポイント" }),
      h("span", { class: "h-meta", text: formatTime(p.completed_at) + " ・ " + (STATUS[p.status] || p.status) }),
      h("span", { class: "h-meta" }, "決済ID ", h("span", { class: "payment-id", text: p.payment_id })));
  }

  async function initBalance() {
    if (!state.token) {
      show("login");
      return;
    }
    $("logout").addEventListener("click", () => {
      sessionStorage.removeItem(TOKEN_KEY);
      OP.goto("/pay/home");
    });
    let cursor = null;
    let count = 0;
    async function more() {
      try {
        const body = await api("GET", "/v1/wallet/payments?limit=20" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""),
          { token: state.token });
        $("history").append(...body.items.map(historyItem));
        count += body.items.length;
        cursor = body.next_cursor;
        $("history-more").hidden = !cursor;
        $("history-empty").hidden = count > 0;
      } catch (err) {
        fail(err);
      }
    }
    $("history-more").addEventListener("click", more);
    try {
      const wallet = await api("GET", "/v1/wallet", { token: state.token });
      setText("balance", points(wallet.balance));
      setText("expired", points(wallet.expired));
      $("lots-table").tBodies[0].replaceChildren(...wallet.lots.map((lot) => h("tr", {},
        h("td", { text: OP.formatDate(lot.expires_on) + " まで" }),
        h("td", { class: "num", text: points(lot.points) }))));
      show("balance");
      await more();
    } catch (err) {
      fail(err);
    }
  }

  if (page === "balance") initBalance();
  else initHome();
})();
