/* Operator pages (商工会): merchants with register / suspend / reactivate / password reset and the
   printable QR letter; settlement periods with their payouts and the Zengin transfer file; claim-code
   batches with their CSV and letters; the audit log of every merchant and of the chamber. */
"use strict";

(function () {
  const OP = window.OP;
  const { h, $, api, setText, showMessage, clearMessage, points, formatTime } = OP;
  const AREA = "/admin";
  const PAGES = ["merchants", "periods", "claims", "audit"];
  const page = document.documentElement.dataset.page;

  /* An error: beside the button that was pressed when there is one, else at the top. */
  function fail(err, overrides, anchor) {
    OP.handleError(err, AREA, overrides, anchor);
  }

  /* The confirm dialog: resolves true for はい. ``big`` is shown large (a value to check by eye). */
  function confirmAction(title, text, big) {
    const dialog = $("confirm-dialog");
    setText("confirm-title", title);
    setText("confirm-text", text);
    const shown = $("confirm-big");
    if (shown) {
      shown.textContent = big || "";
      shown.hidden = !big;
    }
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
      dialog.showModal();
    });
  }

  // -- merchants --------------------------------------------------------------------------------
  const MERCHANT_STATUS = { active: "利用中", suspended: "停止中" };
  const merchantPath = (id) => "/v1/admin/merchants/" + encodeURIComponent(id);

  /* The printable letter. With a freshly issued password it is POSTed (the store keeps only the
     hash, so the password can be printed only now) and shown from a blob: URL; without one the
     letter is simply opened. The window is opened inside the click so no pop-up blocker stops it. */
  async function openLetter(merchantId, password) {
    clearMessage();
    if (!password) {
      window.open(OP.BASE + merchantPath(merchantId) + "/letter", "_blank", "noopener");
      return;
    }
    const win = window.open("", "_blank");
    try {
      const response = await fetch(OP.BASE + merchantPath(merchantId) + "/letter", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "text/html", "X-CSRF-Token": OP.cookie("__Host-csrf") || OP.cookie("csrf") },
        body: JSON.stringify({ initial_password: password }),
      });
      if (!response.ok) throw new OP.ApiError(response.status, response.status === 401 ? "unauthenticated" : "internal_error",
        OP.MESSAGES.internal_error);
      const url = URL.createObjectURL(new Blob([await response.text()], { type: "text/html" }));
      if (win) {
        win.opener = null;
        win.location.replace(url);
      } else {
        window.location.assign(url);
      }
      setTimeout(() => URL.revokeObjectURL(url), 120000);
    } catch (err) {
      if (win) win.close();
      fail(err instanceof OP.ApiError ? err : new OP.ApiError(0, "network_error", OP.MESSAGES.network_error));
    }
  }

  function showIssued(merchant, password) {
    setText("issued-name", merchant.name_ja);
    setText("issued-login", merchant.login_id);
    setText("issued-password", password);
    const panel = $("issued");
    panel.hidden = false;
    const button = $("issued-letter");
    button.onclick = () => openLetter(merchant.merchant_id, password);
    panel.focus();
  }

  function merchantRow(m) {
    const row = h("tr", { dataset: { merchantId: m.merchant_id } },
      h("td", { class: "mono", text: m.merchant_id }),
      h("td", { text: m.name_ja }),
      h("td", { text: m.name_en }),
      h("td", { class: "mono", text: m.login_id }),
      h("td", {}, h("span", { class: "status " + m.status, text: MERCHANT_STATUS[m.status] || m.status })));
    const actions = h("td", { class: "cell-actions" });
    const label = (what) => `${m.name_ja} を${what}`;
    if (m.status === "active") {
      actions.append(h("button", { type: "button", text: "停止", "aria-label": label("利用停止"),
        onclick: () => changeStatus(m, row, "suspend") }));
    } else {
      actions.append(h("button", { type: "button", text: "再開", "aria-label": label("利用再開"),
        onclick: () => changeStatus(m, row, "reactivate") }));
    }
    actions.append(
      h("button", { type: "button", text: "パスワード再発行", "aria-label": `パスワード再発行(${m.name_ja})`,
        onclick: () => resetPassword(m) }),
      h("button", { type: "button", text: "案内状", "aria-label": `${m.name_ja} の案内状を開く`,
        onclick: () => openLetter(m.merchant_id, null) }),
      h("button", { type: "button", text: "店舗", "aria-label": `${m.name_ja} の店舗`,
        onclick: () => showStores(m) }));
    row.append(actions);
    return row;
  }

  // -- a merchant's shops (店舗) -------------------------------------------------------------------
  let storesOf = null; // the merchant whose shops the panel shows

  function storeRow(s) {
    const path = merchantPath(s.merchant_id) + "/stores/" + encodeURIComponent(s.store_id);
    const actions = h("td", { class: "cell-actions" },
      h("button", { type: "button", text: "QRコード", "aria-label": `${s.name_ja} のQRコード(SVG)を開く`,
        onclick: () => window.open(OP.BASE + path + "/qr.svg", "_blank", "noopener") }),
      h("button", { type: "button", text: "案内状", "aria-label": `${s.name_ja} の案内状を開く`,
        onclick: () => window.open(OP.BASE + path + "/letter", "_blank", "noopener") }));
    if (!s.is_default) {
      const suspend = s.status === "active";
      actions.append(h("button", { type: "button", text: suspend ? "停止" : "再開",
        "aria-label": `${s.name_ja} を${suspend ? "利用停止" : "利用再開"}`,
        onclick: async () => {
          clearMessage();
          const ok = await confirmAction(suspend ? "この店舗を利用停止にしますか?" : "この店舗の利用を再開しますか?",
            `「${s.name_ja}」` + (suspend ? "ではポイントを使えなくなります。" : "でふたたびポイントを使えるようにします。"));
          if (!ok) return;
          try {
            await api("POST", path + (suspend ? "/suspend" : "/reactivate"));
            showMessage(`「${s.name_ja}」を${suspend ? "利用停止" : "利用再開"}にしました。`, "ok");
            loadStores();
          } catch (err) {
            fail(err);
          }
        } }));
    }
    return h("tr", { dataset: { storeId: s.store_id } },
      h("td", { class: "mono", text: s.store_id }),
      h("td", { text: s.name_ja + (s.is_default ? "(既定)" : "") }),
      h("td", { text: s.name_en }),
      h("td", {}, h("span", { class: "status " + s.status, text: MERCHANT_STATUS[s.status] || s.status })),
      actions);
  }

  async function loadStores() {
    if (!storesOf) return;
    try {
      const body = await api("GET", merchantPath(storesOf.merchant_id) + "/stores");
      $("store-table").tBodies[0].replaceChildren(...body.items.map(storeRow));
      OP.labelCells($("store-table"));
    } catch (err) {
      fail(err);
    }
  }

  function showStores(m) {
    clearMessage();
    storesOf = m;
    setText("stores-title", `店舗(${m.name_ja})`);
    const panel = $("stores-panel");
    panel.hidden = false;
    loadStores().then(() => panel.focus());
  }

  function initStoreForm() {
    $("store-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage();
      const button = $("store-add-button");
      OP.clearNear(button);
      if (!storesOf) return;
      const body = { name_ja: $("store-name-ja").value.trim(), name_en: $("store-name-en").value.trim() };
      const mcc = halfDigits($("store-mcc").value.trim());
      if (mcc) body.mcc = mcc;
      if (!body.name_ja || !body.name_en) {
        fail(new OP.ApiError(400, "invalid_request", "店舗名を日本語と英字の両方で入力してください。"), undefined, button);
        return;
      }
      button.disabled = true;
      try {
        const added = await api("POST", merchantPath(storesOf.merchant_id) + "/stores", { body });
        $("store-form").reset();
        showMessage(`店舗「${added.name_ja}」を追加しました(店舗ID ${added.store_id})。案内状を印刷してお渡しください。`, "ok");
        await loadStores();
      } catch (err) {
        fail(err, undefined, button);
      } finally {
        button.disabled = false;
      }
    });
  }

  async function changeStatus(m, row, action) {
    clearMessage();
    const suspend = action === "suspend";
    const ok = await confirmAction(suspend ? "利用停止にしますか?" : "利用を再開しますか?",
      suspend ? `「${m.name_ja}」を利用停止にします。停止中はこのお店でポイントを使えません。`
        : `「${m.name_ja}」でふたたびポイントを使えるようにします。`);
    if (!ok) return;
    try {
      const updated = await api("POST", merchantPath(m.merchant_id) + "/" + action);
      const fresh = merchantRow(updated);
      row.replaceWith(fresh);
      OP.labelCells($("merchant-table"));
      showMessage(`「${updated.name_ja}」を${suspend ? "利用停止" : "利用再開"}にしました。`, "ok");
    } catch (err) {
      fail(err);
    }
  }

  async function resetPassword(m) {
    clearMessage();
    const ok = await confirmAction("パスワードを再発行しますか?",
      `「${m.name_ja}」の今のパスワードは使えなくなります。新しい初期パスワードを案内状でお渡しください。`);
    if (!ok) return;
    try {
      const result = await api("POST", merchantPath(m.merchant_id) + "/reset-password");
      showIssued({ ...m, ...result }, result.initial_password);
    } catch (err) {
      fail(err);
    }
  }

  // The registration form's fields, by the API's parameter names, with their Japanese labels.
  const FIELD_IDS = {
    name_ja: ["name-ja", "店舗名(日本語)"], name_en: ["name-en", "店舗名(英字)"], mcc: ["mcc", "業種コード"],
    "bank.bank_code": ["bank-code", "金融機関コード"], "bank.branch_code": ["branch-code", "支店コード"],
    "bank.account_type": ["account-type", "預金種目"], "bank.account_number": ["account-number", "口座番号"],
    "bank.holder_kana": ["holder-kana", "口座名義"],
  };

  function halfDigits(text) {
    return text.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  }

  function registerBody() {
    const v = (id) => $(id).value.trim();
    const body = {
      name_ja: v("name-ja"), name_en: v("name-en"),
      bank: { bank_code: halfDigits(v("bank-code")), branch_code: halfDigits(v("branch-code")),
        account_type: Number(v("account-type")), account_number: halfDigits(v("account-number")),
        holder_kana: v("holder-kana") },
    };
    if (v("mcc")) body.mcc = halfDigits(v("mcc"));
    return body;
  }

  /* Every problem the page can see by itself, at once, in words a person can act on. */
  function checkRegister(body) {
    const p = {};
    if (!body.name_ja) p.name_ja = "店舗名(日本語)を入力してください。";
    else if (body.name_ja.length > 25) p.name_ja = `店舗名(日本語)は25文字以内にしてください(今は${body.name_ja.length}文字)。`;
    if (!body.name_en) p.name_en = "店舗名(英字)を入力してください。";
    else if (!/^[ -~]+$/.test(body.name_en)) p.name_en = "店舗名(英字)は半角の英数字と記号で入力してください。";
    else if (body.name_en.length > 25) p.name_en = `店舗名(英字)は25文字以内にしてください(今は${body.name_en.length}文字)。`;
    if (body.mcc !== undefined && !/^[0-9]{4}$/.test(body.mcc)) p.mcc = "業種コードは数字4桁で入力してください(省略できます)。";
    const digits = [["bank_code", 4, "金融機関コード"], ["branch_code", 3, "支店コード"], ["account_number", 7, "口座番号"]];
    for (const [key, width, label] of digits) {
      const value = body.bank[key];
      if (!value) p["bank." + key] = `${label}を入力してください(数字${width}桁)。`;
      else if (!new RegExp(`^[0-9]{${width}}$`).test(value)) p["bank." + key] = `${label}は数字${width}桁で入力してください(今は${value.length}文字)。`;
    }
    if (!body.bank.holder_kana) p["bank.holder_kana"] = "口座名義をカタカナで入力してください。";
    return p;
  }

  /* The server's message with its parameter name replaced by the field's label. */
  function fieldMessage(err) {
    const entry = FIELD_IDS[err.param];
    let text = err.message || OP.MESSAGES.invalid_request;
    if (entry) text = text.replace(/\(name_(ja|en)\)/g, "").split(err.param).join(entry[1]);
    return text;
  }

  function clearFieldErrors() {
    for (const [id] of Object.values(FIELD_IDS)) {
      const input = $(id);
      input.removeAttribute("aria-invalid");
      if ($(id + "-hint")) input.setAttribute("aria-describedby", id + "-hint");
      else input.removeAttribute("aria-describedby");
      const note = $(id + "-error");
      if (note) note.remove();
    }
  }

  function showFieldErrors(problems) {
    let first = null;
    for (const [param, text] of Object.entries(problems)) {
      const entry = FIELD_IDS[param];
      if (!entry) continue;
      const input = $(entry[0]);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", entry[0] + "-error" + ($(entry[0] + "-hint") ? " " + entry[0] + "-hint" : ""));
      input.after(h("p", { class: "field-error", id: entry[0] + "-error", text }));
      first = first || input;
    }
    const count = Object.keys(problems).length;
    showMessage(`入力内容を確認してください(${count}か所)。`);
    if (first) first.focus();
  }

  function initMerchants() {
    const tbody = $("merchant-table").tBodies[0];
    let cursor = null;
    async function load() {
      try {
        const body = await api("GET", "/v1/admin/merchants?limit=100" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
        tbody.append(...body.items.map(merchantRow));
        OP.labelCells($("merchant-table"));
        cursor = body.next_cursor;
        $("more").hidden = !cursor;
        $("empty").hidden = tbody.rows.length > 0;
      } catch (err) {
        fail(err);
      }
    }
    $("more").addEventListener("click", load);
    initStoreForm();
    $("register-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage();
      clearFieldErrors();
      const button = $("register-button");
      OP.clearNear(button);
      const body = registerBody();
      const problems = checkRegister(body);
      if (Object.keys(problems).length) {
        showFieldErrors(problems);
        return;
      }
      button.disabled = true;
      try {
        // The server checks everything and converts the holder name; nothing is saved yet.
        const preview = await api("POST", "/v1/admin/merchants/preview", { body });
        const ok = await confirmAction("この内容で登録しますか?",
          `「${preview.name_ja}」(${preview.name_en})を登録します。口座名義は振込用の半角カナ「${preview.bank.holder_kana}」で登録されます。` +
          "名義が通帳と同じか確かめてください。", preview.bank.holder_kana);
        if (!ok) {
          $("holder-kana").focus();
          return;
        }
        const created = await api("POST", "/v1/admin/merchants", { body });
        tbody.prepend(merchantRow(created));
        OP.labelCells($("merchant-table"));
        $("empty").hidden = true;
        $("register-form").reset();
        showIssued(created, created.initial_password);
      } catch (err) {
        if (err instanceof OP.ApiError && err.code === "invalid_request" && FIELD_IDS[err.param]) {
          showFieldErrors({ [err.param]: fieldMessage(err) });
        } else {
          fail(err, undefined, button);
        }
      } finally {
        button.disabled = false;
      }
    });
    load();
  }

  // -- periods ----------------------------------------------------------------------------------
  const PERIOD_STATE = { open: "受付中", due: "締め待ち", closing: "締め処理中", closed: "締め済み" };
  const PAYOUT_STATUS = { scheduled: "振込予定", exported: "振込手続中", paid: "振込済", failed: "振込不能", carried: "繰越" };
  const periodPath = (id) => "/v1/admin/periods/" + encodeURIComponent(id);
  const first = (...values) => values.find((x) => x !== undefined && x !== null);

  function periodLabel(id) {
    const m = /^(\d{4})-(\d{2})-([12])$/.exec(id || "");
    if (!m) return id || "";
    return `${m[1]}年${Number(m[2])}月 ${m[3] === "1" ? "前半" : "後半"}`;
  }

  async function downloadLink(path) {
    const body = await api("GET", path);
    const url = OP.safeUrl(body.url);
    if (!url) throw new OP.ApiError(500, "internal_error", OP.MESSAGES.internal_error);
    OP.download(url, body.filename || "");
    return body;
  }

  function payoutRow(p) {
    const payoutPath = periodPath(p.period_id) + "/payouts/" + encodeURIComponent(p.merchant_id);
    const actions = h("td", { class: "cell-actions" },
      h("button", { type: "button", text: "明細", "aria-label": `明細CSV(${p.name_ja})`, onclick: async (event) => {
        clearMessage();
        const button = event.currentTarget;
        try {
          await downloadLink(payoutPath + "/detail");
        } catch (err) {
          fail(err, undefined, button);
        }
      } }));
    const row = h("tr", { dataset: { merchantId: p.merchant_id } },
      h("td", { class: "mono", text: p.merchant_id }),
      h("td", { text: p.name_ja }),
      h("td", { class: "num", text: points(first(p.sales_points, 0)) + `(${first(p.sales_count, 0)}件)` }),
      h("td", { class: "num", text: points(first(p.cancel_points, 0)) + `(${first(p.cancel_count, 0)}件)` }),
      h("td", { class: "num", text: points(first(p.carried_in, 0)) }),
      h("td", { class: "num", text: points(first(p.amount, p.payout, 0)) + " 円" }),
      h("td", { class: "time", text: OP.formatDate(p.transfer_date) }),
      h("td", {}, h("span", { class: "status " + p.status,
        text: p.status_label || PAYOUT_STATUS[p.status] || p.status || "" })),
      actions);
    if (p.status === "exported") {
      for (const [status, label] of [["paid", "振込済にする"], ["failed", "振込不能にする"]]) {
        actions.append(h("button", { type: "button", text: label, "aria-label": `${label}(${p.name_ja})`,
          onclick: (event) => markPayout(p, row, status, label, event.currentTarget) }));
      }
    }
    return row;
  }

  async function markPayout(p, row, status, label, button) {
    clearMessage();
    const ok = await confirmAction(label.replace("にする", "にしますか?"),
      status === "paid" ? `「${p.name_ja}」への ${points(first(p.amount, 0))} 円の振込が済んだことを記録します。`
        : `「${p.name_ja}」への振込ができなかったことを記録します。次の全銀ファイルにもう一度入ります。`);
    if (!ok) return;
    try {
      const updated = await api("POST", periodPath(p.period_id) + "/payouts/" + encodeURIComponent(p.merchant_id) +
        "/" + status);
      row.replaceWith(payoutRow({ ...p, ...updated }));
      OP.labelCells($("payout-table"));
      showMessage(`「${p.name_ja}」を${label.replace("にする", "")}にしました。`, "ok");
    } catch (err) {
      fail(err, undefined, button);
    }
  }

  let currentPeriod = null;

  async function showPayouts(period) {
    clearMessage();
    currentPeriod = period;
    setText("payouts-title", `振込の一覧(${periodLabel(period.period_id)})`);
    try {
      const items = [];
      let cursor = null;
      do {
        const body = await api("GET", periodPath(period.period_id) + "/payouts" +
          (cursor ? "?cursor=" + encodeURIComponent(cursor) : ""));
        items.push(...body.items);
        cursor = body.next_cursor;
      } while (cursor);
      $("payout-table").tBodies[0].replaceChildren(...items.map(payoutRow));
      OP.labelCells($("payout-table"));
      $("payouts-empty").textContent = period.state === "closed" ? "この期間の振込はありません。"
        : `この期間はまだ締めていません(${PERIOD_STATE[period.state] || period.state})。締めると振込の一覧ができます。`;
      $("payouts-empty").hidden = items.length > 0;
      $("zengin-button").disabled = period.state !== "closed";
      $("report-button").disabled = period.state !== "closed";
      OP.clearNear($("zengin-button"));
      $("payouts").hidden = false;
      $("payouts").focus();
      $("payouts").scrollIntoView({ block: "start" });
    } catch (err) {
      fail(err);
    }
  }

  /* "2026/11/16 〜 2026/11/30": the period's JST days (its end is exclusive). */
  function dateRange(p) {
    const lastDay = formatTime(new Date(Date.parse(p.end) - 1).toISOString()).slice(0, 10);
    return formatTime(p.start).slice(0, 10) + " 〜 " + lastDay;
  }

  function periodRow(p) {
    const actions = h("td", { class: "cell-actions" },
      h("button", { type: "button", text: "振込一覧", "aria-label": `${periodLabel(p.period_id)} の振込一覧`,
        onclick: () => showPayouts(p) }));
    if (p.state === "due" || p.state === "closing") {
      actions.append(h("button", { type: "button", text: "締める", "aria-label": `${periodLabel(p.period_id)} を締める`,
        onclick: (event) => closePeriod(p, event.currentTarget) }));
    }
    const closed = p.state === "closed";
    const net = first(p.sales_points, 0) - first(p.cancel_points, 0);
    return h("tr", { class: closed ? "" : "period-running", dataset: { periodId: p.period_id } },
      h("td", { text: periodLabel(p.period_id) }),
      h("td", { class: "time", text: dateRange(p) }),
      h("td", { class: "time", text: OP.formatDate(p.transfer_date) }),
      h("td", {}, h("span", { class: "status " + p.state, text: PERIOD_STATE[p.state] || p.state })),
      h("td", { class: "num", text: points(first(p.sales_points, 0)) + " / " + points(first(p.cancel_points, 0)) }),
      h("td", { class: "num", text: closed ? points(first(p.payouts_count, 0)) + "件" : "(締め前)" }),
      h("td", { class: "num", text: closed ? points(first(p.payouts_total, 0)) + " 円" : "見込み " + points(net) + " 円" }),
      actions);
  }

  /* Newest first (the API's order), a few at a time: the current periods and the payouts panel stay
     on the first screen; older ones come with さらに表示. */
  const PERIODS_SHOWN = 6;
  let periodItems = [];
  let periodsShown = PERIODS_SHOWN;
  function renderPeriods() {
    $("period-table").tBodies[0].replaceChildren(...periodItems.slice(0, periodsShown).map(periodRow));
    OP.labelCells($("period-table"));
    $("empty").hidden = periodItems.length > 0;
    $("periods-more").hidden = periodItems.length <= periodsShown;
    setText("periods-count", periodItems.length > periodsShown
      ? `新しい順に ${periodsShown} / ${periodItems.length} 期間を表示` : "");
  }

  async function loadPeriods() {
    try {
      const body = await api("GET", "/v1/admin/periods");
      periodItems = body.items;
      renderPeriods();
    } catch (err) {
      fail(err, { not_found: "精算の機能はまだ使えません。" });
    }
  }

  async function closePeriod(p, button) {
    clearMessage();
    const ok = await confirmAction("期間を締めますか?",
      `${periodLabel(p.period_id)} を締めて、事業者ごとの振込額を確定します。締めた期間は元に戻せません。`);
    if (!ok) return;
    try {
      await api("POST", periodPath(p.period_id) + "/close");
      showMessage(`${periodLabel(p.period_id)} を締めました。`, "ok");
      await loadPeriods();
    } catch (err) {
      fail(err, undefined, button);
    }
  }

  function initPeriods() {
    for (const [id, what, path] of [["zengin-button", "全銀ファイル", "/zengin"], ["report-button", "精算報告CSV", "/report"]]) {
      $(id).addEventListener("click", async () => {
        if (!currentPeriod) return;
        clearMessage();
        const button = $(id);
        button.disabled = true;
        try {
          const body = await downloadLink(periodPath(currentPeriod.period_id) + path);
          OP.showNear(button, `${what}(${body.filename || ""})をダウンロードしました。`, "ok");
        } catch (err) {
          fail(err, undefined, button);
        } finally {
          button.disabled = false;
        }
      });
    }
    $("periods-more").addEventListener("click", () => {
      periodsShown += PERIODS_SHOWN * 2;
      renderPeriods();
    });
    loadPeriods();
  }

  // -- claim codes (受取コード) -------------------------------------------------------------------
  const batchPath = (id) => "/v1/admin/claim-batches/" + encodeURIComponent(id);
  const LETTERS_PER_FILE = 200;

  function newBatchId() {
    const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    const bytes = new Uint8Array(10);
    window.crypto.getRandomValues(bytes);
    return "CB" + Array.from(bytes, (b) => alphabet[b % 32]).join("");
  }

  function batchRow(b) {
    const csv = h("button", { type: "button", text: "CSV", "aria-label": `受取コードのCSV(${b.batch_id})`,
      onclick: async (event) => {
        clearMessage();
        const button = event.currentTarget;
        button.disabled = true;
        try {
          await downloadLink(batchPath(b.batch_id) + "/codes");
          OP.showNear(button, "CSVをダウンロードしました。", "ok");
        } catch (err) {
          fail(err, undefined, button);
        } finally {
          button.disabled = false;
        }
      } });
    const letters = [];
    for (let start = 0; start < b.count && letters.length < 50; start += LETTERS_PER_FILE) {
      const stop = Math.min(b.count, start + LETTERS_PER_FILE);
      const label = b.count > LETTERS_PER_FILE ? `案内状 ${start + 1}〜${stop}` : "案内状";
      letters.push(h("a", { class: "button", href: OP.BASE + batchPath(b.batch_id) + `/letters?offset=${start}&limit=${stop - start}`,
        target: "_blank", rel: "noopener", text: label, "aria-label": `${label}(${b.batch_id})` }));
    }
    return h("tr", {},
      h("td", { class: "payment-id", text: b.batch_id }),
      h("td", { class: "num", text: points(b.count) }),
      h("td", { class: "num", text: points(b.points) + " pt" }),
      h("td", { text: OP.formatDate(b.expires_on) }),
      h("td", { text: formatTime(b.created_at) }),
      h("td", { class: "num", text: `${points(b.claimed_count)} 件 / ${points(b.claimed_points)} pt` }),
      h("td", { class: "num", text: points(b.unclaimed_points) }),
      h("td", { class: "cell-actions" }, csv, ...letters));
  }

  async function loadBatches() {
    try {
      const body = await api("GET", "/v1/admin/claim-batches");
      $("batch-table").tBodies[0].replaceChildren(...body.items.map(batchRow));
      OP.labelCells($("batch-table"));
      $("batches-empty").hidden = body.items.length > 0;
    } catch (err) {
      fail(err);
    }
  }

  function initClaims() {
    $("issue-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage();
      const button = $("issue-button");
      OP.clearNear(button);
      const count = Number(halfDigits($("claim-count").value.trim()));
      const each = Number(halfDigits($("claim-points").value.trim()));
      const expiresOn = $("claim-expires").value;
      if (!Number.isSafeInteger(count) || count < 1 || count > 10000) {
        showMessage("コードの数は1〜10,000の数字で入力してください。");
        return;
      }
      if (!Number.isSafeInteger(each) || each < 1) {
        showMessage("1コードのポイント数を1以上の数字で入力してください。");
        return;
      }
      if (!/^\d{4}-\d{2}-\d{2}$/.test(expiresOn)) {
        showMessage("有効期限を入力してください。");
        return;
      }
      // an id made here: sending the same form again (a lost answer) never issues twice
      if (!$("claim-batch-id").value.trim()) $("claim-batch-id").value = newBatchId();
      const body = { count, points: each, expires_on: expiresOn, batch_id: $("claim-batch-id").value.trim() };
      const ok = await confirmAction("受取コードを発行しますか?",
        `${points(count)} 件 × ${points(each)} ポイント(合計 ${points(count * each)} ポイント)、有効期限 ${OP.formatDate(expiresOn)} まで。`,
        body.batch_id);
      if (!ok) return;
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      try {
        const created = await api("POST", "/v1/admin/claim-batches", { body });
        OP.showNear(button, `バッチ ${created.batch_id} を発行しました(${points(created.count)} 件)。`, "ok");
        $("issue-form").reset();
        await loadBatches();
      } catch (err) {
        fail(err, { idempotency_key_reused: "このバッチIDは別の内容で発行済みです。別のバッチIDにしてください。" }, button);
      } finally {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      }
    });
    loadBatches();
  }

  // -- start -----------------------------------------------------------------------------------
  if (page === "login") {
    OP.initLogin(AREA, PAGES, "merchants", "商工会の管理画面");
  } else {
    OP.wireLogout(AREA);
    setText("who-name", "商工会");
    if (page === "merchants") initMerchants();
    else if (page === "periods") initPeriods();
    else if (page === "claims") initClaims();
    else if (page === "audit") OP.initAuditPage(AREA, "/v1/admin/audit", "/v1/admin/audit/exports", true);
  }
})();
