/* 地域ポイントコンソール (the merchant console): 取引履歴 / 取引情報 / レジ画面 / 振込履歴 / スタッフ / 操作履歴 /
   お問い合わせ, and its login page. History pages and the till update themselves from the live feed.
   What a staff member may not use is left out of the menu and the page by the server's role (data-staff-role);
   the API refuses it anyway. */
"use strict";

(function () {
  const OP = window.OP;
  const { h, $, api, setText, showMessage, clearMessage, points, formatTime } = OP;
  const AREA = "/console";
  const PAGES = ["history", "transactions", "register", "payouts", "staff", "audit", "contact"];
  const STAFF_ROLE = document.documentElement.dataset.staffRole || "";
  const CLERK = STAFF_ROLE === "clerk";
  const PAGE_SIZE = 20;
  const MINUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;
  const page = document.documentElement.dataset.page;
  let shop = null;

  function fail(err, overrides) {
    OP.handleError(err, AREA, overrides);
  }

  // -- the shops this person may see (GET /v1/merchant/stores answers only those) ------------------
  let storesAsked = null;
  const storeNames = new Map();
  function loadStores() {
    if (!storesAsked) {
      storesAsked = api("GET", "/v1/merchant/stores").then((body) => {
        for (const s of body.items) storeNames.set(s.store_id, s.name_ja);
        return body.items;
      }).catch((err) => {
        storesAsked = null;
        fail(err);
        return [];
      });
    }
    return storesAsked;
  }

  function storeFromUrl() {
    const value = new URLSearchParams(window.location.search).get("store_id") || "";
    return /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : "";
  }

  /* The 店舗 selector: shown only when this person sees more than one shop. */
  async function initStoreSelect(selected, onChange) {
    const select = $("store-filter");
    if (!select) return;
    const stores = await loadStores();
    if (stores.length < 2) return;
    document.body.classList.add("multi-shop"); // phones then show each row's shop name too
    select.replaceChildren(h("option", { value: "", text: "すべての店舗" }),
      ...stores.map((s) => h("option", { value: s.store_id, text: s.name_ja })));
    select.value = stores.some((s) => s.store_id === selected) ? selected : "";
    $("store-field").hidden = false;
    if (onChange) select.addEventListener("change", () => onChange(select.value));
  }

  async function loadMe() {
    try {
      shop = await api("GET", "/v1/merchant/me");
      setText("who-name", shop.name_ja + (shop.staff_name ? " ・ " + shop.staff_name : ""));
    } catch (err) {
      fail(err);
    }
    return shop;
  }

  // -- the live feed ----------------------------------------------------------------------------
  /* Polls GET /v1/merchant/live while the page is visible. The first answer is today's backlog
     (handed to onStart); later ones are new events (onItems). A failed poll (no network, a 5xx)
     reports "offline" and the next poll recovers by itself; a lost session stops it. */
  const POLL_MS = 3000;
  function liveFeed(handlers) {
    let cursor = null;
    const store = handlers.store || "";
    let timer = null;
    let started = false;
    let stopped = false;
    let busy = false;

    function schedule(ms) {
      if (timer) clearTimeout(timer);
      timer = null;
      if (!stopped && document.visibilityState === "visible") timer = setTimeout(tick, ms);
    }

    async function tick() {
      timer = null;
      if (busy || stopped) return;
      busy = true;
      try {
        const items = [];
        let body;
        do { // a backlog comes 50 at a time
          const query = [];
          if (cursor) query.push("after=" + encodeURIComponent(cursor));
          if (store) query.push("store_id=" + encodeURIComponent(store));
          body = await api("GET", "/v1/merchant/live" + (query.length ? "?" + query.join("&") : ""));
          cursor = body.cursor;
          items.push(...body.items);
        } while (body.items.length === 50);
        if (handlers.onStatus) handlers.onStatus("online", body.server_time);
        if (!started) {
          started = true;
          if (handlers.onStart) await handlers.onStart(items);
        } else if (items.length) {
          await handlers.onItems(items);
        }
      } catch (err) {
        if (err instanceof OP.ApiError && err.status === 401) {
          stopped = true;
          if (handlers.onStatus) handlers.onStatus("expired");
          OP.showSessionLost(AREA);
          return;
        }
        if (handlers.onStatus) handlers.onStatus(err.code === "network_error" || err.status >= 500 ? "offline" : "error");
      } finally {
        busy = false;
        schedule(POLL_MS);
      }
    }

    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") schedule(0);
      else if (timer) {
        clearTimeout(timer);
        timer = null;
      }
    });
    schedule(0);
    return { pollNow: () => schedule(0) };
  }

  function clock(iso) {
    const t = iso ? new Date(iso) : new Date();
    return OP.jstParts(t).second.slice(11, 19);
  }

  function liveStatusLine(state, serverTime) {
    const line = $("live-status");
    if (!line) return;
    line.dataset.state = state;
    if (state === "online") {
      setText("live-state", "自動更新中");
      setText("last-updated", clock(serverTime));
    } else if (state === "offline") {
      setText("live-state", "通信が切れています(自動で再接続します)");
    } else if (state === "expired") {
      setText("live-state", "自動更新は止まっています");
    }
  }

  // -- the from/to range (JST, to the minute), kept in the page's query string ---------------------
  function initialRange() {
    const params = new URLSearchParams(window.location.search);
    const from = params.get("from");
    const to = params.get("to");
    const status = /^(completed|cancelled)$/.test(params.get("status") || "") ? params.get("status") : "";
    const store = storeFromUrl();
    if (MINUTE.test(from || "") && MINUTE.test(to || "") && from <= to) return { from, to, status, store };
    const today = OP.todayJst();
    return { from: today + "T00:00", to: today + "T23:59", status, store };
  }

  function lastDayOfMonth(isoDate) {
    const d = new Date(isoDate.slice(0, 7) + "-01T00:00:00Z");
    d.setUTCMonth(d.getUTCMonth() + 1);
    d.setUTCDate(0);
    return d.toISOString().slice(0, 10);
  }

  /* 今日 / 昨日 / 今月 / 今期 (the settlement period: the 1st to the 15th, or the 16th to the month's end). */
  function presetRange(name) {
    const today = OP.todayJst();
    const month = today.slice(0, 8);
    if (name === "yesterday") {
      const y = OP.addDays(today, -1);
      return { from: y + "T00:00", to: y + "T23:59" };
    }
    if (name === "month") return { from: month + "01T00:00", to: lastDayOfMonth(today) + "T23:59" };
    if (name === "period") {
      return Number(today.slice(8, 10)) <= 15
        ? { from: month + "01T00:00", to: month + "15T23:59" }
        : { from: month + "16T00:00", to: lastDayOfMonth(today) + "T23:59" };
    }
    return { from: today + "T00:00", to: today + "T23:59" };
  }

  function markPreset(range) {
    for (const button of document.querySelectorAll(".preset")) {
      const r = presetRange(button.dataset.preset);
      button.setAttribute("aria-pressed", String(r.from === range.from && r.to === range.to));
    }
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
    return { from, to, status: $("status-filter") ? $("status-filter").value : "",
      store: $("store-filter") ? $("store-filter").value : "" };
  }

  function rangeLabel(range) {
    return range.from.replace("T", " ").replace(/-/g, "/") + " 〜 " + range.to.replace("T", " ").replace(/-/g, "/");
  }

  function rangeQuery(range) {
    return "from=" + encodeURIComponent(range.from) + "&to=" + encodeURIComponent(range.to) +
      (range.store ? "&store_id=" + encodeURIComponent(range.store) : "");
  }

  /* A paged table of payments: cursors are kept so 前へ returns to the exact earlier page.
     show() is a new question (the old numbers are cleared while it loads); refresh() is the live
     update of the same question (numbers change in place, new rows are marked). */
  function pagedTable(renderRow, onPage) {
    const tbody = $("tx-table").tBodies[0];
    let range = null;
    let cursors = [null];
    let index = 0;
    let loading = 0; // the newest question asked: an older answer arriving late is dropped
    let searching = false;

    function filterQuery() {
      return rangeQuery(range) + (range.status ? "&status=" + range.status : "");
    }

    function setLoading(on) {
      $("table-panel").setAttribute("aria-busy", String(on));
      $("table-panel").classList.toggle("loading", on);
      if (on) setText("page-info", "読み込み中…");
    }

    async function load(fresh) {
      if (fresh && loading) return; // a live refresh never overtakes a question being answered
      const mine = Date.now() + Math.random();
      loading = mine;
      if (!fresh) setLoading(true);
      try {
        const cursor = cursors[index];
        const body = await api("GET", "/v1/merchant/transactions?" + filterQuery() + "&limit=" + PAGE_SIZE +
          (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
        if (loading !== mine) return;
        if (searching) { // a search began meanwhile: its row stays
          if (onPage) onPage(body, index);
          return;
        }
        const before = new Set(Array.from(tbody.rows, (r) => r.dataset.paymentId));
        tbody.replaceChildren(...body.items.map(renderRow));
        if (fresh) {
          for (const row of tbody.rows) if (!before.has(row.dataset.paymentId)) row.classList.add("new-row");
        }
        OP.labelCells($("tx-table"));
        $("empty").textContent = range.status ? "この条件の取引はありません。" : "この期間の取引はありません。";
        $("empty").hidden = body.items.length > 0 || index > 0;
        if (body.next_cursor) cursors[index + 1] = body.next_cursor;
        else cursors = cursors.slice(0, index + 1);
        $("prev-page").disabled = index === 0;
        $("next-page").disabled = !body.next_cursor;
        const total = range.status === "completed" ? body.completed_count
          : range.status === "cancelled" ? body.cancelled_count : body.completed_count + body.cancelled_count;
        const first = index * PAGE_SIZE + (body.items.length ? 1 : 0);
        setText("page-info", total ? `${total}件中 ${first}〜${index * PAGE_SIZE + body.items.length}件` : "");
        if (onPage) onPage(body, index);
      } catch (err) {
        if (loading !== mine) return;
        fail(err);
        setText("page-info", "");
      } finally {
        if (loading === mine) {
          loading = 0;
          setLoading(false);
        }
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
        const body = await api("GET", "/v1/merchant/transactions?" + filterQuery() + "&limit=200" +
          (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
        rows.push(...body.items);
        cursor = body.next_cursor;
      } while (cursor && rows.length < maxRows);
      tbody.replaceChildren(...rows.map(renderRow));
      OP.labelCells($("tx-table"));
      return { rows: rows.length, truncated: Boolean(cursor) };
    }

    function showOne(payment) {
      searching = true;
      tbody.replaceChildren(renderRow(payment));
      OP.labelCells($("tx-table"));
      $("empty").hidden = true;
      $("prev-page").disabled = true;
      $("next-page").disabled = true;
      setText("page-info", `決済ID ${payment.payment_id} の取引`);
      $("lookup-clear").hidden = false;
    }

    return {
      loadAll,
      reload: () => load(false),
      /* The live update: the first page is re-read in place; on a later page only the totals move. */
      refresh() {
        if (index === 0 && !searching) return load(true).then(() => 0);
        return api("GET", "/v1/merchant/transactions?" + filterQuery() + "&limit=1").then((body) => {
          if (onPage) onPage(body, -1);
          return 1;
        });
      },
      show(newRange) {
        range = newRange;
        cursors = [null];
        index = 0;
        searching = false;
        $("lookup-clear").hidden = true;
        if (onPage) onPage(null, 0);
        return load(false);
      },
      showOne,
      get range() {
        return range;
      },
      get searching() {
        return searching;
      },
      tbody,
    };
  }

  function initRangeForm(table, onRange) {
    const start = initialRange();
    $("range-from").value = start.from;
    $("range-to").value = start.to;
    $("status-filter").value = start.status;
    markPreset(start);

    function apply(range) {
      clearMessage();
      const url = new URL(window.location.href);
      url.searchParams.set("from", range.from);
      url.searchParams.set("to", range.to);
      if (range.status) url.searchParams.set("status", range.status);
      else url.searchParams.delete("status");
      if (range.store) url.searchParams.set("store_id", range.store);
      else url.searchParams.delete("store_id");
      window.history.replaceState(null, "", url.pathname + url.search);
      markPreset(range);
      if (onRange) onRange(range);
      table.show(range);
    }

    $("range-form").addEventListener("submit", (event) => {
      event.preventDefault();
      clearMessage();
      const range = readRange();
      if (range) apply(range);
    });
    for (const button of document.querySelectorAll(".preset")) {
      button.addEventListener("click", () => {
        const r = presetRange(button.dataset.preset);
        $("range-from").value = r.from;
        $("range-to").value = r.to;
        apply({ ...r, status: $("status-filter").value, store: $("store-filter") ? $("store-filter").value : "" });
      });
    }
    $("status-filter").addEventListener("change", () => {
      const range = readRange();
      if (range) apply(range);
    });
    initStoreSelect(start.store, () => {
      const range = readRange();
      if (range) apply(range);
    });
    $("lookup-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage();
      const id = $("lookup-id").value.replace(/[\s-]/g, "").toUpperCase();
      if (!id) {
        showMessage("決済IDを入力してください。");
        return;
      }
      try {
        table.showOne(await api("GET", "/v1/merchant/payments/" + encodeURIComponent(id)));
      } catch (err) {
        fail(err, { not_found: "その決済IDの取引は見つかりませんでした。" });
      }
    });
    $("lookup-clear").addEventListener("click", () => {
      $("lookup-id").value = "";
      table.show(table.range);
    });
    if (onRange) onRange(start);
    table.show(start);
  }

  /* Live updates of a history-like page: counts, totals and rows within seconds of a payment. */
  function wireLive(table, onNews) {
    let seen = 0;
    liveFeed({
      onStatus: liveStatusLine,
      onItems: async (items) => {
        seen += items.length;
        const payments = items.filter((i) => i.kind === "payment").length;
        const cancels = items.length - payments;
        const parts = [];
        if (payments) parts.push(`新しいお支払い ${payments}件`);
        if (cancels) parts.push(`取消 ${cancels}件`);
        const later = await table.refresh();
        if (onNews) await onNews(items);
        setText("live-note", "・" + parts.join("・") + "(" + clock(items[items.length - 1].at) + ")" +
          (later || table.searching ? " 1ページ目に表示されます" : ""));
      },
    });
    return () => seen;
  }

  function statusBadge(p) {
    return h("span", { class: "status " + p.status, text: p.status_label || (p.status === "cancelled" ? "取消" : "完了") });
  }

  /* The time cell: the year is dropped on phones so the row fits one line. */
  function timeCell(iso) {
    const text = formatTime(iso);
    if (!text) return h("td", { class: "time" });
    return h("td", { class: "time" }, h("span", { class: "t-year", text: text.slice(0, 5) }), text.slice(5));
  }

  // -- 取引履歴 ----------------------------------------------------------------------------------
  function historyRow(p) {
    return h("tr", { class: p.status, dataset: { paymentId: p.payment_id } },
      timeCell(p.completed_at),
      h("td", { class: "mono", text: p.payment_id }),
      h("td", { class: "col-shop", text: p.store_name || p.name_ja }),
      h("td", { class: "mono col-consumer", text: p.consumer_id }),
      h("td", { class: "num", text: points(p.amount) }),
      h("td", {}, statusBadge(p)),
      h("td", { class: "time col-cancelled", text: formatTime(p.cancelled_at) }));
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
    box.removeAttribute("aria-busy");
    if (!days.some((d) => d.completed_points > 0 || d.cancelled_points > 0)) {
      box.replaceChildren(h("p", { class: "empty", text: "この期間の売上はありません。" }));
      return;
    }
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

  async function loadChart(range, quiet) {
    if (!quiet) {
      $("chart").setAttribute("aria-busy", "true");
      $("chart").replaceChildren(h("p", { class: "loading-note", text: "読み込み中…" }));
    }
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

  /* A clerk sees today's history of its shops only: no range pickers, no chart, no export. */
  function clerkHistory() {
    const exportButton = $("export-button");
    if (exportButton) exportButton.remove();
    $("range-form").hidden = true; // kept (the page reads today's range from it), not shown
    const chart = $("chart");
    if (chart && chart.closest("section")) chart.closest("section").remove();
    const title = $("page-title");
    if (title) title.textContent = "今日の取引";
  }

  let rangeCount = null;
  function initHistory() {
    if (CLERK) {
      clerkHistory();
      const today = OP.todayJst();
      window.history.replaceState(null, "", window.location.pathname + "?from=" + today + "T00:00&to=" + today + "T23:59");
    }
    const table = pagedTable(historyRow, (body) => {
      const stats = $("stats");
      stats.setAttribute("aria-busy", String(!body));
      stats.classList.toggle("loading", !body);
      const value = (n) => (body ? points(n) : "…"); // never the old range's numbers under the new range
      setText("completed-count", value(body && body.completed_count));
      setText("completed-points", value(body && body.completed_points));
      setText("cancelled-count", value(body && body.cancelled_count));
      setText("cancelled-points", value(body && body.cancelled_points));
      rangeCount = body ? body.completed_count + body.cancelled_count : null;
    });
    initRangeForm(table, CLERK ? null : loadChart);
    wireLive(table, CLERK ? undefined : () => loadChart(table.range, true));
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
    if (!exportButton) return;
    exportButton.addEventListener("click", async () => {
      clearMessage();
      const range = readRange();
      if (!range) return;
      const nothing = "この期間には書き出す取引がありません。期間を変えてからもう一度お試しください。";
      if (rangeCount === 0 && table.range && range.from === table.range.from && range.to === table.range.to &&
          range.store === table.range.store) {
        showMessage(nothing, "info");
        return;
      }
      exportButton.disabled = true;
      try {
        const body = { from: range.from, to: range.to };
        if (range.store) body.store_id = range.store;
        const result = await api("POST", "/v1/merchant/exports", { body });
        if (result.rows === 0) {
          showMessage(nothing, "info");
          return;
        }
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
      timeCell(p.completed_at),
      h("td", { class: "mono", text: p.payment_id }),
      h("td", { class: "col-shop", text: p.store_name || p.name_ja }),
      h("td", { class: "mono col-consumer", text: p.consumer_id }),
      h("td", { class: "num", text: points(p.amount) }),
      h("td", {}, statusBadge(p)),
      h("td", { class: "time col-cancelled", text: formatTime(p.cancelled_at) }));
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
    initRangeForm(table);
    wireLive(table);
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
      let filename = "";
      if (target.origin === window.location.origin && target.pathname.startsWith(OP.BASE + "/v1/")) {
        const body = await api("GET", target.pathname.slice(OP.BASE.length) + target.search);
        url = body && body.url;
        filename = (body && body.filename) || "";
      }
      const safe = OP.safeUrl(url || "");
      if (!safe) throw new OP.ApiError(500, "internal_error", OP.MESSAGES.internal_error);
      OP.download(safe, filename);
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
      for (const key of ["merchant", "consumer"]) {
        const block = c[key] || {};
        setText(key + "-label", block.name);
        const link = $(key + "-phone");
        link.textContent = block.phone || "—";
        if (block.phone) link.href = "tel:" + block.phone.replace(/[^0-9+]/g, "");
        setText(key + "-hours", block.hours);
        if ($(key + "-address")) setText(key + "-address", block.address);
      }
    } catch (err) {
      fail(err);
    }
  }

  // -- レジ画面 ----------------------------------------------------------------------------------
  /* The till: the newest payment large, a chime for each new one, the last few below. The chime is
     Web Audio (two short tones), switched on by a tap because browsers only play sound after one. */
  const RECENT = 8;
  let audio = null;
  let chimeOn = false;

  function chime() {
    if (!chimeOn || !audio) return;
    const t = audio.currentTime + 0.02;
    [[1318.5, 0], [1046.5, 0.18]].forEach(([freq, offset]) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + offset);
      gain.gain.exponentialRampToValueAtTime(0.4, t + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + offset + 0.45);
      osc.connect(gain).connect(audio.destination);
      osc.start(t + offset);
      osc.stop(t + offset + 0.5);
    });
  }

  async function toggleChime() {
    const button = $("chime-toggle");
    chimeOn = !chimeOn;
    if (chimeOn) {
      try {
        const Ctx = window.AudioContext || window.webkitAudioContext;
        if (!audio && Ctx) audio = new Ctx();
        if (audio && audio.state === "suspended") await audio.resume();
      } catch (err) {
        audio = null;
      }
      if (!audio) {
        chimeOn = false;
        showMessage("この端末では音を鳴らせません。画面の表示でお確かめください。");
      }
      chime(); // so the clerk hears it works
      try {
        if (navigator.wakeLock) await navigator.wakeLock.request("screen"); // keep the till's screen on
      } catch (err) {
        /* not offered: the screen may dim as usual */
      }
    }
    button.setAttribute("aria-pressed", String(chimeOn));
    button.textContent = chimeOn ? "チャイム: オン" : "チャイム: オフ";
    $("chime-hint").hidden = chimeOn;
  }

  function tillState(state, serverTime) {
    const line = $("till-connection");
    line.dataset.state = state;
    if (state === "online") {
      setText("till-state", "接続中");
      setText("last-updated", clock(serverTime));
    } else if (state === "offline") {
      setText("till-state", "通信が切れています。新しいお支払いを表示できません(自動で再接続します)");
    } else if (state === "expired") {
      setText("till-state", "ログインが切れました");
    } else {
      setText("till-state", "表示を更新できませんでした(自動でやり直します)");
    }
  }

  function initRegister() {
    const events = []; // today's, oldest first
    const store = storeFromUrl();
    const cancelled = new Set();
    let latestId = null;

    function last4(id) {
      return String(id || "").slice(-4);
    }

    function recentItem(e) {
      const isCancel = e.kind === "cancellation";
      return h("li", { class: isCancel ? "cancellation" : cancelled.has(e.payment_id) ? "payment cancelled" : "payment" },
        h("span", { class: "r-time", text: clock(e.at) }),
        h("span", { class: "r-amount", text: (isCancel ? "取消 −" : "") + points(e.amount) + " ポイント" }),
        h("span", { class: "r-id" }, "決済ID …", h("span", { class: "payment-id", text: last4(e.payment_id) })),
        storeNames.size > 1 ? h("span", { class: "r-shop", text: storeNames.get(e.store_id) || "" }) : "");
    }

    function render(flash) {
      const payments = events.filter((e) => e.kind === "payment");
      const latest = payments[payments.length - 1];
      $("latest-empty").hidden = Boolean(latest);
      $("latest-body").hidden = !latest;
      if (latest) {
        setText("latest-amount", points(latest.amount));
        setText("latest-time", formatTime(latest.at));
        setText("latest-id", last4(latest.payment_id));
        setText("latest-shop", storeNames.get(latest.store_id) || (shop ? shop.name_ja : ""));
        $("latest-cancelled").hidden = !cancelled.has(latest.payment_id);
        $("till-latest").classList.toggle("is-cancelled", cancelled.has(latest.payment_id));
        if (flash && latest.payment_id !== latestId) {
          const box = $("till-latest");
          box.classList.remove("flash");
          void box.offsetWidth; // restart the animation
          box.classList.add("flash");
        }
        latestId = latest.payment_id;
      }
      const recent = events.slice(-RECENT).reverse();
      $("recent").replaceChildren(...recent.map(recentItem));
      $("recent-empty").hidden = recent.length > 0;
    }

    async function totals() {
      const today = OP.todayJst();
      try {
        const body = await api("GET", "/v1/merchant/transactions?from=" + today + "T00:00&to=" + today + "T23:59&limit=1" +
          (store ? "&store_id=" + encodeURIComponent(store) : ""));
        setText("today-count", points(body.completed_count));
        setText("today-points", points(body.completed_points));
      } catch (err) {
        if (err instanceof OP.ApiError && err.status === 401) OP.showSessionLost(AREA);
      }
    }

    function add(items) {
      for (const e of items) {
        if (e.kind === "cancellation") cancelled.add(e.payment_id);
        events.push(e);
      }
      if (events.length > 200) events.splice(0, events.length - 200);
    }

    $("chime-toggle").addEventListener("click", toggleChime);
    // a till shows one shop (or every shop this person sees): choosing another reloads the page for it
    initStoreSelect(store, (value) => {
      const url = new URL(window.location.href);
      if (value) url.searchParams.set("store_id", value);
      else url.searchParams.delete("store_id");
      window.location.assign(url.pathname + url.search);
    });
    liveFeed({
      store,
      onStatus: tillState,
      onStart: async (items) => {
        add(items);
        await Promise.all([loadMe(), loadStores()]);
        render(false);
        await totals();
      },
      onItems: async (items) => {
        add(items);
        render(true);
        if (items.some((e) => e.kind === "payment")) chime();
        await totals();
      },
    });
  }

  // -- スタッフ (owner) ---------------------------------------------------------------------------
  const ROLE_LABEL = { owner: "オーナー", manager: "マネージャー", clerk: "レジ担当" };
  const STAFF_STATUS = { active: "有効", disabled: "無効", revoked: "停止中(商工会)" };

  function showIssued(member, password) {
    setText("issued-name", member.name || ROLE_LABEL[member.role]);
    setText("issued-login", member.login_id);
    setText("issued-password", password);
    const panel = $("issued");
    panel.hidden = false;
    panel.focus();
  }

  function staffRow(m, reload) {
    const actions = h("td", { class: "no-print actions-cell" });
    async function act(path, question, done) {
      if (!window.confirm(question)) return;
      clearMessage();
      try {
        const body = await api("POST", "/v1/merchant/staff/" + encodeURIComponent(m.staff_id) + path);
        done(body);
        reload();
      } catch (err) {
        fail(err);
      }
    }
    if (!m.is_me) {
      if (m.status === "disabled") {
        actions.append(h("button", { type: "button", class: "secondary", text: "有効に戻す",
          onclick: () => act("/enable", `${m.name || m.login_id} さんを有効に戻しますか?`,
            () => showMessage(`${m.name || m.login_id} さんを有効に戻しました。`, "ok")) }));
      } else {
        actions.append(h("button", { type: "button", class: "danger", text: "無効にする",
          onclick: () => act("/disable", `${m.name || m.login_id} さんを無効にしますか?ログイン中の画面もすぐに使えなくなります。`,
            () => showMessage(`${m.name || m.login_id} さんを無効にしました。`, "ok")) }));
      }
      actions.append(h("button", { type: "button", class: "secondary", text: "パスワード再発行",
        onclick: () => act("/reset-password", `${m.name || m.login_id} さんのパスワードを再発行しますか?`,
          (body) => showIssued(body, body.initial_password)) }));
    } else {
      actions.append(h("span", { class: "hint", text: "あなた" }));
    }
    return h("tr", { dataset: { staffId: m.staff_id, status: m.status } },
      h("td", { text: m.name || "(最初のログイン)" }),
      h("td", { text: ROLE_LABEL[m.role] || m.role }),
      h("td", { text: m.store_ids ? m.store_ids.map((id) => storeNames.get(id) || id).join("、") : "すべての店舗" }),
      h("td", { class: "mono", text: m.login_id }),
      h("td", { text: STAFF_STATUS[m.status] || m.status }),
      actions);
  }

  function initStaff() {
    const tbody = $("staff-table").tBodies[0];
    async function load() {
      try {
        await loadStores();
        const body = await api("GET", "/v1/merchant/staff");
        tbody.replaceChildren(...body.items.map((m) => staffRow(m, load)));
        OP.labelCells($("staff-table"));
      } catch (err) {
        fail(err);
      }
    }
    const choices = $("store-choices");
    loadStores().then((shops) => {
      choices.replaceChildren(...shops.map((s) => h("label", {},
        h("input", { type: "checkbox", name: "store_ids", value: s.store_id, checked: true }), " " + s.name_ja)));
    });
    for (const radio of document.querySelectorAll("input[name=scope]")) {
      radio.addEventListener("change", () => { choices.hidden = !document.querySelector("input[name=scope][value=some]").checked; });
    }
    $("staff-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage();
      const name = $("staff-name").value.trim();
      if (!name) {
        showMessage("名前を入力してください。");
        $("staff-name").focus();
        return;
      }
      const body = { name, role: $("staff-role").value };
      if (document.querySelector("input[name=scope][value=some]").checked) {
        body.store_ids = Array.from(document.querySelectorAll("input[name=store_ids]:checked"), (i) => i.value);
        if (!body.store_ids.length) {
          showMessage("担当する店舗を1つ以上選んでください。");
          return;
        }
      }
      const button = $("staff-submit");
      button.disabled = true;
      try {
        const added = await api("POST", "/v1/merchant/staff", { body });
        showIssued(added, added.initial_password);
        $("staff-form").reset();
        choices.hidden = true;
        load();
      } catch (err) {
        fail(err);
      } finally {
        button.disabled = false;
      }
    });
    load();
  }

  // -- start -----------------------------------------------------------------------------------
  function start() {
    if (page === "login") {
      OP.initLogin(AREA, PAGES, "history", "地域ポイントコンソール");
      return;
    }
    OP.wireLogout(AREA);
    // password.js runs that page; asking the API here would answer password_change_required and reload it
    if (page === "password") return;
    if (page === "register") {
      initRegister(); // asks for the shop itself, once its first answer is in
      return;
    }
    const me = loadMe();
    if (page === "history") initHistory();
    else if (page === "transactions") initTransactions();
    else if (page === "payouts") me.then(initPayouts);
    else if (page === "contact") initContact();
    else if (page === "staff") initStaff();
    else if (page === "audit") OP.initAuditPage(AREA, "/v1/merchant/audit", "/v1/merchant/audit/exports", false);
  }

  start();
})();
