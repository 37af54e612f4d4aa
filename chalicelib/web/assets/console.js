/* Merchant console: 取引履歴 / 取引情報 / 振込履歴 / お問い合わせ, and its login page. */
"use strict";

(function () {
  const OP = window.OP;
  const { h, $, api, setText, showMessage, clearMessage, points, formatTime } = OP;
  const AREA = "/console";
  const PAGES = ["history", "transactions", "payouts", "contact"];
  const PAGE_SIZE = 20;
  const MINUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;
  const page = document.documentElement.dataset.page;
  let shop = null;

  function fail(err, overrides) {
    OP.handleError(err, AREA, overrides);
  }

  async function loadMe() {
    try {
      shop = await api("GET", "/v1/merchant/me");
      setText("who-name", shop.name_ja);
    } catch (err) {
      fail(err);
    }
    return shop;
  }

  // -- the from/to range (JST, to the minute), kept in the page's query string ---------------------
  function initialRange() {
    const params = new URLSearchParams(window.location.search);
    const from = params.get("from");
    const to = params.get("to");
    if (MINUTE.test(from || "") && MINUTE.test(to || "")) return { from, to };
    const today = OP.todayJst();
    return { from: today + "T00:00", to: today + "T23:59" };
  }

  function readRange() {
    const from = $("range-from").value;
    const to = $("range-to").value;
    if (!MINUTE.test(from) || !MINUTE.test(to)) {
      showMessage("開始日時と終了日時を、分まで入力してください。");
      return null;
    }
    if (from > to) {
      showMessage("終了日時は開始日時より後にしてください。");
      return null;
    }
    return { from, to };
  }

  function rangeLabel(range) {
    return range.from.replace("T", " ").replace(/-/g, "/") + " 〜 " + range.to.replace("T", " ").replace(/-/g, "/");
  }

  function rangeQuery(range) {
    return "from=" + encodeURIComponent(range.from) + "&to=" + encodeURIComponent(range.to);
  }

  /* A paged table of payments: cursors are kept so 前へ returns to the exact earlier page. */
  function pagedTable(renderRow, onPage) {
    const tbody = $("tx-table").tBodies[0];
    let range = null;
    let cursors = [null];
    let index = 0;
    let loading = false;

    async function load() {
      if (loading) return;
      loading = true;
      $("range-submit").disabled = true;
      try {
        const cursor = cursors[index];
        const body = await api("GET", "/v1/merchant/transactions?" + rangeQuery(range) + "&limit=" + PAGE_SIZE +
          (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
        tbody.replaceChildren(...body.items.map(renderRow));
        OP.labelCells($("tx-table"));
        $("empty").hidden = body.items.length > 0 || index > 0;
        if (body.next_cursor) cursors[index + 1] = body.next_cursor;
        else cursors = cursors.slice(0, index + 1);
        $("prev-page").disabled = index === 0;
        $("next-page").disabled = !body.next_cursor;
        const total = body.completed_count + body.cancelled_count;
        const first = index * PAGE_SIZE + (body.items.length ? 1 : 0);
        setText("page-info", total ? `${total}件中 ${first}〜${index * PAGE_SIZE + body.items.length}件` : "");
        if (onPage) onPage(body, index);
      } catch (err) {
        fail(err);
      } finally {
        loading = false;
        $("range-submit").disabled = false;
      }
    }

    $("prev-page").addEventListener("click", () => {
      if (index > 0) {
        index -= 1;
        load();
      }
    });
    $("next-page").addEventListener("click", () => {
      if (cursors[index + 1]) {
        index += 1;
        load();
      }
    });
    /* Every row of the range on one page (for paper); the paged view comes back with reload(). */
    async function loadAll(maxRows) {
      const rows = [];
      let cursor = null;
      do {
        const body = await api("GET", "/v1/merchant/transactions?" + rangeQuery(range) + "&limit=200" +
          (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
        rows.push(...body.items);
        cursor = body.next_cursor;
      } while (cursor && rows.length < maxRows);
      tbody.replaceChildren(...rows.map(renderRow));
      OP.labelCells($("tx-table"));
      return { rows: rows.length, truncated: Boolean(cursor) };
    }

    return {
      loadAll,
      reload: load,
      show(newRange) {
        range = newRange;
        cursors = [null];
        index = 0;
        return load();
      },
      get range() {
        return range;
      },
      tbody,
    };
  }

  function initRangeForm(table, onRange) {
    const start = initialRange();
    $("range-from").value = start.from;
    $("range-to").value = start.to;
    $("range-form").addEventListener("submit", (event) => {
      event.preventDefault();
      clearMessage();
      const range = readRange();
      if (!range) return;
      const url = new URL(window.location.href);
      url.searchParams.set("from", range.from);
      url.searchParams.set("to", range.to);
      window.history.replaceState(null, "", url.pathname + url.search);
      if (onRange) onRange(range);
      table.show(range);
    });
    if (onRange) onRange(start);
    table.show(start);
  }

  function statusBadge(p) {
    return h("span", { class: "status " + p.status, text: p.status_label || (p.status === "cancelled" ? "取消" : "完了") });
  }

  // -- 取引履歴 ----------------------------------------------------------------------------------
  function historyRow(p) {
    return h("tr", { class: p.status },
      h("td", { class: "time", text: formatTime(p.completed_at) }),
      h("td", { class: "mono", text: p.payment_id }),
      h("td", { text: p.name_ja }),
      h("td", { class: "mono", text: p.consumer_id }),
      h("td", { class: "num", text: points(p.amount) }),
      h("td", {}, statusBadge(p)),
      h("td", { class: "time", text: formatTime(p.cancelled_at) }));
  }

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") el.textContent = String(v);
      else el.setAttribute(k, String(v));
    }
    children.forEach((c) => c && el.append(c));
    return el;
  }

  function niceMax(value) {
    if (value <= 0) return 100;
    const magnitude = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (value <= step * magnitude) return step * magnitude;
    }
    return 10 * magnitude;
  }

  /* The daily bar chart: completed points per day, with cancellations as a thinner red bar. Drawn
     at the box's own pixel width so the labels stay legible on a phone; redrawn when that changes. */
  let chartDays = null;
  function drawChart(days) {
    chartDays = days;
    const box = $("chart");
    const width = Math.max(280, Math.round(box.clientWidth || 800));
    const height = width < 560 ? 200 : 240;
    const left = 60;
    const right = 8;
    const top = 12;
    const bottom = 28;
    const plotW = width - left - right;
    const plotH = height - top - bottom;
    const max = niceMax(Math.max(0, ...days.map((d) => Math.max(d.completed_points, d.cancelled_points))));
    const total = days.reduce((s, d) => s + d.completed_points, 0);
    const chart = svg("svg", {
      viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
      "aria-label": `日別のポイント売上のグラフ(${days.length}日間、合計${points(total)}ポイント)`,
    });
    for (let i = 0; i <= 4; i += 1) {
      const y = top + plotH - (plotH * i) / 4;
      chart.append(svg("line", { class: i ? "grid" : "axis", x1: left, x2: width - right, y1: y, y2: y }));
      chart.append(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", text: points((max * i) / 4) }));
    }
    const slot = plotW / Math.max(days.length, 1);
    const barW = Math.max(1, Math.min(48, slot * 0.7));
    const labelEvery = Math.max(1, Math.ceil(days.length / Math.max(1, Math.floor(plotW / 44))));
    days.forEach((d, i) => {
      const x = left + slot * i + (slot - barW) / 2;
      const hSales = (plotH * d.completed_points) / max;
      const label = d.date.slice(5).replace("-", "/");
      const bar = svg("rect", { class: "bar", x, y: top + plotH - hSales, width: barW, height: hSales });
      bar.append(svg("title", { text: `${label} 売上 ${points(d.completed_points)}ポイント(${d.completed_count}件)` }));
      chart.append(bar);
      if (d.cancelled_points > 0) {
        const hCancel = (plotH * d.cancelled_points) / max;
        const cancel = svg("rect", { class: "bar-cancel", x: x + barW * 0.65, y: top + plotH - hCancel,
          width: Math.max(1, barW * 0.35), height: hCancel });
        cancel.append(svg("title", { text: `${label} 取消 ${points(d.cancelled_points)}ポイント(${d.cancelled_count}件)` }));
        chart.append(cancel);
      }
      if (i % labelEvery === 0) {
        chart.append(svg("text", { x: left + slot * i + slot / 2, y: height - 8, "text-anchor": "middle", text: label }));
      }
    });
    const legend = h("p", { class: "legend" },
      h("span", {}, h("span", { class: "swatch sales", "aria-hidden": "true" }), "ポイント売上"),
      h("span", {}, h("span", { class: "swatch cancel", "aria-hidden": "true" }), "取消"));
    box.replaceChildren(chart, legend);
  }

  let chartWidth = 0;
  window.addEventListener("resize", () => {
    const box = $("chart");
    if (!box || !chartDays || Math.abs(box.clientWidth - chartWidth) < 24) return;
    chartWidth = box.clientWidth;
    drawChart(chartDays);
  });

  async function loadChart(range) {
    try {
      const body = await api("GET", "/v1/merchant/sales/daily?" + rangeQuery(range));
      drawChart(body.days);
    } catch (err) {
      fail(err);
    }
  }

  function printMeta(extra) {
    const name = shop ? shop.name_ja + " 様" : "";
    setText("print-meta", [name, extra, "印刷日時 " + formatTime(new Date().toISOString())].filter(Boolean).join(" ・ "));
  }

  function initHistory() {
    const table = pagedTable(historyRow, (body) => {
      setText("completed-count", points(body.completed_count));
      setText("completed-points", points(body.completed_points));
      setText("cancelled-count", points(body.cancelled_count));
      setText("cancelled-points", points(body.cancelled_points));
    });
    initRangeForm(table, loadChart);
    $("print-button").addEventListener("click", async () => {
      clearMessage();
      const button = $("print-button");
      button.disabled = true;
      try {
        const all = await table.loadAll(2000);
        printMeta("期間 " + rangeLabel(table.range) + (all.truncated ? "(先頭の2,000件)" : ""));
        window.print();
      } catch (err) {
        fail(err);
      } finally {
        button.disabled = false;
        table.reload();
      }
    });
    const exportButton = $("export-button");
    exportButton.addEventListener("click", async () => {
      clearMessage();
      const range = readRange();
      if (!range) return;
      exportButton.disabled = true;
      try {
        const result = await api("POST", "/v1/merchant/exports", { body: range });
        const url = OP.safeUrl(result.url);
        if (!url) throw new OP.ApiError(500, "internal_error", OP.MESSAGES.internal_error);
        OP.download(url, result.filename);
        showMessage(`${points(result.rows)}件の取引をCSVファイルに書き出しました。ダウンロードが始まらないときは、もう一度押してください。`, "ok");
      } catch (err) {
        fail(err);
      } finally {
        exportButton.disabled = false;
      }
    });
  }

  // -- 取引情報 ----------------------------------------------------------------------------------
  function usageRow(p) {
    const row = h("tr", { class: p.status, tabindex: "-1", dataset: { paymentId: p.payment_id } },
      h("td", { class: "time", text: formatTime(p.completed_at) }),
      h("td", { class: "mono", text: p.payment_id }),
      h("td", { class: "mono", text: p.consumer_id }),
      h("td", { class: "num", text: points(p.amount) }),
      h("td", {}, statusBadge(p)),
      h("td", { class: "time", text: formatTime(p.cancelled_at) }));
    const actions = h("td", { class: "cell-actions" });
    if (p.status === "completed") {
      actions.append(h("button", {
        type: "button", class: "cancel-button", text: "取消", "aria-label": `決済ID ${p.payment_id} を取消`,
        onclick: () => askCancel(p, row),
      }));
    }
    row.append(actions);
    return row;
  }

  function replaceRow(row, payment) {
    const fresh = usageRow(payment);
    row.replaceWith(fresh);
    OP.labelCells($("tx-table"));
    return fresh;
  }

  let cancelling = null;

  function askCancel(payment, row) {
    clearMessage();
    cancelling = { payment, row };
    const dialog = $("cancel-dialog");
    setText("cancel-payment-id", payment.payment_id);
    setText("cancel-time", formatTime(payment.completed_at));
    setText("cancel-amount", points(payment.amount) + " ポイント");
    dialog.returnValue = "";
    dialog.showModal();
    $("cancel-no").focus();
  }

  async function onCancelDialogClose() {
    const dialog = $("cancel-dialog");
    const job = cancelling;
    cancelling = null;
    if (!job) return;
    if (dialog.returnValue !== "yes") {
      const button = job.row.querySelector(".cancel-button");
      if (button) button.focus();
      return;
    }
    const id = job.payment.payment_id;
    try {
      const cancelled = await api("POST", "/v1/merchant/payments/" + encodeURIComponent(id) + "/cancel",
        { body: { confirm_payment_id: id } });
      replaceRow(job.row, cancelled).focus();
      showMessage(`決済ID ${id} を取り消しました。${points(cancelled.amount)}ポイントをお客さまに戻しました。`, "ok");
    } catch (err) {
      fail(err);
      if (err instanceof OP.ApiError && err.code === "already_cancelled") {
        try {
          replaceRow(job.row, await api("GET", "/v1/merchant/payments/" + encodeURIComponent(id)));
        } catch (ignored) {
          /* the message above already says what happened */
        }
      }
    }
  }

  function initTransactions() {
    const table = pagedTable(usageRow);
    $("cancel-dialog").addEventListener("close", onCancelDialogClose);
    $("lookup-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage();
      const id = $("lookup-id").value.replace(/[\s-]/g, "").toUpperCase();
      if (!id) {
        showMessage("決済IDを入力してください。");
        return;
      }
      try {
        const p = await api("GET", "/v1/merchant/payments/" + encodeURIComponent(id));
        table.tbody.replaceChildren(usageRow(p));
        OP.labelCells($("tx-table"));
        $("empty").hidden = true;
        $("prev-page").disabled = true;
        $("next-page").disabled = true;
        setText("page-info", `決済ID ${p.payment_id} の取引`);
      } catch (err) {
        fail(err, { not_found: "その決済IDの取引は見つかりませんでした。" });
      }
    });
    initRangeForm(table);
  }

  // -- 振込履歴 ----------------------------------------------------------------------------------
  const PAYOUT_STATUS = { scheduled: "振込予定", exported: "振込手続中", paid: "振込済", failed: "振込不能", carried: "繰越" };

  function periodLabel(id) {
    const m = /^(\d{4})-(\d{2})-([12])$/.exec(id || "");
    if (!m) return id || "";
    return `${m[1]}年${Number(m[2])}月 ${m[3] === "1" ? "前半(1日〜15日)" : "後半(16日〜月末)"}`;
  }

  async function openDetail(item) {
    clearMessage();
    try {
      // detail_url is either a presigned link to the CSV, or an API route of ours answering {url}.
      const target = new URL(item.detail_url, window.location.href);
      let url = target.href;
      if (target.origin === window.location.origin && target.pathname.startsWith(OP.BASE + "/v1/")) {
        const body = await api("GET", target.pathname.slice(OP.BASE.length) + target.search);
        url = body && body.url;
      }
      const safe = OP.safeUrl(url || "");
      if (!safe) throw new OP.ApiError(500, "internal_error", OP.MESSAGES.internal_error);
      OP.download(safe, "");
    } catch (err) {
      fail(err);
    }
  }

  function payoutRow(item) {
    const amount = item.amount ?? item.payout_points ?? 0;
    const detail = h("td", { class: "no-print cell-actions" });
    if (item.detail_url) {
      detail.append(h("button", { type: "button", text: "明細CSV", "aria-label": `${periodLabel(item.period_id)} の明細CSV`,
        onclick: () => openDetail(item) }));
    }
    return h("tr", {},
      h("td", { text: periodLabel(item.period_id) }),
      h("td", { class: "time", text: OP.formatDate(item.processing_start_date) }),
      h("td", { class: "time", text: OP.formatDate(item.transfer_date) }),
      h("td", { class: "num", text: points(amount) + " 円" }),
      h("td", { text: item.name_ja || (shop && shop.name_ja) || "" }),
      h("td", {}, h("span", { class: "status " + item.status,
        text: item.status_label || PAYOUT_STATUS[item.status] || item.status })),
      detail);
  }

  function initPayouts() {
    const tbody = $("payout-table").tBodies[0];
    let cursor = null;
    let count = 0;
    async function load() {
      try {
        const body = await api("GET", "/v1/merchant/payouts?limit=50" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
        tbody.append(...body.items.map(payoutRow));
        OP.labelCells($("payout-table"));
        count += body.items.length;
        cursor = body.next_cursor;
        $("more").hidden = !cursor;
        $("empty").hidden = count > 0;
      } catch (err) {
        fail(err, { not_found: "振込履歴はまだ表示できません。" });
      }
    }
    $("more").addEventListener("click", load);
    $("print-button").addEventListener("click", () => {
      printMeta("振込履歴");
      window.print();
    });
    load();
  }

  // -- お問い合わせ ------------------------------------------------------------------------------
  async function initContact() {
    try {
      const c = await api("GET", "/v1/merchant/contact");
      for (const [key, phone] of [["merchant", c.merchant_phone], ["consumer", c.consumer_phone]]) {
        const link = $(key + "-phone");
        link.textContent = phone || "—";
        if (phone) link.href = "tel:" + phone.replace(/[^0-9+]/g, "");
        if (c[key + "_label"]) setText(key + "-label", c[key + "_label"]);
      }
      setText("hours", c.hours);
    } catch (err) {
      fail(err);
    }
  }

  // -- start -----------------------------------------------------------------------------------
  function start() {
    if (page === "login") {
      OP.initLogin(AREA, PAGES, "history", "加盟店管理画面");
      return;
    }
    OP.wireLogout(AREA);
    const me = loadMe();
    if (page === "history") initHistory();
    else if (page === "transactions") initTransactions();
    else if (page === "payouts") me.then(initPayouts);
    else if (page === "contact") initContact();
  }

  start();
})();
