// The QA dashboard: live STK pushes, the customer's phone, callback deliveries.
// Plain JavaScript, no build step. Talks only to the admin API under /_emulator/.
"use strict";
(() => {
  const API = "/_emulator";
  const TOKEN_KEY = "daraja-emulator.admin-token";
  const BUSINESS = document.body.dataset.business || "DARAJA EMULATOR";
  const DECISIONS = [
    ["pay", "Pay"],
    ["wrong-pin", "Wrong PIN"],
    ["cancel", "Cancel"],
    ["insufficient-balance", "Insufficient balance"],
    ["timeout", "Let it time out"],
  ];
  const STATES = { pending: "Pending", waiting: "Waiting for you", completed: "Completed" };

  const txns = new Map(); // CheckoutRequestID -> latest record
  const cards = new Map(); // CheckoutRequestID -> its <li> in the list
  const phones = new Map(); // CheckoutRequestID -> its phone prompt
  const opened = new Set(); // CheckoutRequestIDs whose details are open
  const loading = new Set(); // details being fetched
  let scenarios = [];
  let source = null;
  const listeners = []; // [kind, handler] added to every event stream (dashboard-ledger.js's)
  const refreshers = []; // called whenever the stream (re)opens, to catch up

  const $ = (id) => document.getElementById(id);

  // h("p", {class: "x", onclick: fn}, "text", child...): build an element; strings become text.
  function h(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value == null || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) if (child != null) node.append(child);
    return node;
  }

  // ---------------------------------------------------------------- the admin API and its token

  const token = () => localStorage.getItem(TOKEN_KEY) || "";
  let asking = null;

  function askToken(refused) {
    asking ??= new Promise((resolve) => {
      const dialog = $("token-dialog");
      $("token-note").textContent =
        (refused ? "That token was refused. " : "") +
        "This emulator was started with --admin-token. Enter it once; this browser keeps it.";
      $("token-form").onsubmit = (event) => {
        event.preventDefault();
        localStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
        dialog.close();
        asking = null;
        resolve();
      };
      dialog.showModal();
    });
    return asking;
  }

  async function api(method, path, body) {
    for (;;) {
      const headers = token() ? { "X-Admin-Token": token() } : {};
      // every write says JSON, even without a body: the emulator refuses browser writes that don't
      if (method !== "GET") headers["Content-Type"] = "application/json";
      const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
      const response = await fetch(API + path, init);
      if (response.status === 401) {
        await askToken(Boolean(token()));
        continue;
      }
      const data = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(data.error || `${method} ${path}: HTTP ${response.status}`);
      return data;
    }
  }

  function showError(error) {
    const box = $("error");
    box.textContent = `Problem: ${error.message || error}`;
    box.hidden = false;
    clearTimeout(showError.timer);
    showError.timer = setTimeout(() => (box.hidden = true), 8000);
  }

  const say = (text) => ($("announcer").textContent = text);

  // ---------------------------------------------------------------- records

  // Later records win; an older copy (fewer callbacks, or not yet completed) is ignored.
  const rank = (r) =>
    (r.state === "completed" ? 1e6 : 0) + (r.callback_attempts?.length ?? r.callbacks ?? 0);

  function upsert(record, live = false) {
    const id = record.checkout_request_id;
    const old = txns.get(id);
    if (old && rank(record) < rank(old)) return;
    const merged = { ...old, ...record, seenAt: performance.now() };
    txns.set(id, merged);
    place(merged);
    if (live && !old) {
      say(`New STK push: KES ${merged.amount} from ${merged.phone}, scenario ${merged.scenario}.`);
      if (String(merged.reason).startsWith("queued outcome")) loadQueue(); // it used one up
    } else if (live && old && old.state !== "completed" && merged.state === "completed") {
      say(`Push from ${merged.phone} ended: ${merged.result_code} ${merged.result_desc}.`);
    }
    showCount();
  }

  function loadDetail(id) {
    if (loading.has(id)) return;
    loading.add(id);
    api("GET", `/transactions/${encodeURIComponent(id)}`)
      .then((record) => upsert(record))
      .catch(showError)
      .finally(() => loading.delete(id));
  }

  function visible(record) {
    const phone = $("filter-phone").value.trim();
    const state = $("filter-state").value;
    return (!phone || record.phone.includes(phone)) && (!state || record.state === state);
  }

  // ---------------------------------------------------------------- drawing

  const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : "");
  const paid = (r) => String(r.result_code) === "0";

  function stateBadge(record) {
    return h("span", { class: `badge state-${record.state}` }, STATES[record.state] || record.state);
  }

  function resultBadge(record) {
    if (record.result_code == null) return null;
    const ok = paid(record);
    return h(
      "span",
      { class: `badge ${ok ? "ok" : "fail"}` },
      h("span", { "aria-hidden": "true" }, ok ? "✓ " : "✗ "),
      ok ? "Paid" : `Not paid (${record.result_code})`,
    );
  }

  function countdown(record) {
    if (record.state === "completed" || record.due_in == null) return null;
    const scenario = scenarios.find((s) => s.name === record.scenario);
    const label =
      record.state === "waiting"
        ? "Times out (1037) in"
        : scenario
          ? `Outcome ${scenario.result_code} (${scenario.name}) in`
          : "Outcome in";
    const node = h("span", { class: "countdown", role: "timer", "data-label": label });
    node.dataset.deadline = String(record.seenAt + record.due_in * 1000);
    tick(node);
    return node;
  }

  function tick(node) {
    const left = Math.ceil((Number(node.dataset.deadline) - performance.now()) / 1000);
    node.textContent = `${node.dataset.label} ${left > 0 ? `${left} s` : "a moment"}`;
  }

  function facts(pairs) {
    return h(
      "dl",
      { class: "facts" },
      pairs.map(([name, value, wide]) =>
        h("div", { class: wide ? "wide" : null }, h("dt", {}, name), h("dd", {}, String(value ?? "")))),
    );
  }

  function deliveryLine(record) {
    const attempts = record.callback_attempts;
    let text = record.state === "completed" ? "none yet" : "after the outcome";
    if (attempts?.length) {
      text = attempts
        .map((a) => `${a.status != null ? `HTTP ${a.status}` : `error (${a.error})`}, ${Math.round(a.latency_ms)} ms`)
        .join("; ");
    } else if (record.callbacks) {
      text = `${record.callbacks} sent (open the details)`;
    } else if (record.timeline?.some((t) => t.event.startsWith("callback withheld"))) {
      text = "withheld: this scenario sends none";
    }
    return h("p", { class: "delivery" }, h("strong", {}, "Callback: "), text);
  }

  async function copy(text, button) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = h("textarea", { readonly: true, class: "visually-hidden" });
      area.value = text; // no clipboard API outside secure contexts: copy the old way
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = label), 1500);
  }

  function attemptView(attempt, index) {
    // `sent`: the exact text posted (Amount keeps its "1.00"); else the payload, re-encoded
    const json =
      typeof attempt.sent === "string" && attempt.sent
        ? attempt.sent
        : JSON.stringify(attempt.payload, null, 2);
    const outcome = attempt.status != null ? `HTTP ${attempt.status}` : `Error: ${attempt.error}`;
    const copyButton = h("button", { type: "button", class: "small" }, "Copy JSON");
    copyButton.addEventListener("click", () => copy(json, copyButton));
    return h(
      "section",
      { class: "attempt" },
      h("h4", {}, `Delivery ${index + 1}: ${outcome}`),
      facts([["At", clock(attempt.at)], ["URL", attempt.url], ["Status", outcome],
        ["Latency", `${attempt.latency_ms} ms`]]),
      h("div", { class: "code-head" }, h("span", {}, "JSON sent"), copyButton),
      h("pre", { tabindex: "0", class: "payload" }, json),
      h("div", { class: "code-head" }, h("span", {}, "Answer received")),
      h("pre", { tabindex: "0" }, attempt.response_body || "(empty)"),
    );
  }

  function details(record) {
    const id = record.checkout_request_id;
    const box = h("details", { class: "more" }, h("summary", {}, "Callback deliveries and timeline"));
    box.open = opened.has(id);
    box.addEventListener("toggle", () => {
      if (!box.open) return opened.delete(id);
      opened.add(id);
      if ((record.callback_attempts?.length ?? -1) < (record.callbacks ?? 0)) loadDetail(id);
    });
    const attempts = record.callback_attempts;
    if (!attempts) return box;
    if (!attempts.length) box.append(h("p", { class: "hint" }, "No callback delivered yet."));
    attempts.forEach((a, i) => box.append(attemptView(a, i)));
    box.append(
      h("h4", {}, "Timeline"),
      h("ol", { class: "timeline" },
        record.timeline.map((t) => h("li", {}, h("time", {}, clock(t.at)), " ", t.event))),
    );
    return box;
  }

  function card(record) {
    const pairs = [
      ["Time", clock(record.created_at)],
      ["Phone", record.phone],
      ["Amount", `KES ${record.amount}`],
      ["Account ref.", record.account_reference],
      ["Shortcode", record.business_short_code],
      ["Scenario", record.scenario],
    ];
    if (record.receipt) pairs.push(["Receipt", record.receipt]);
    pairs.push(["CheckoutRequestID", record.checkout_request_id, true]);
    if (record.result_code != null) {
      pairs.push(["Result", `${record.result_code} ${record.result_desc}`, true]);
    }
    return h(
      "li",
      { class: "txn", "data-id": record.checkout_request_id, "data-state": record.state },
      h("div", { class: "txn-head" },
        h("strong", {}, `KES ${record.amount} · ${record.phone}`),
        stateBadge(record), resultBadge(record), countdown(record)),
      facts(pairs),
      deliveryLine(record),
      details(record),
    );
  }

  function phone(record) {
    const id = record.checkout_request_id;
    const pinId = `pin-${id}`;
    const box = h("article", { class: "phone", "data-id": id, "aria-label": `Phone ${record.phone}` });
    const decideNow = (outcome) => decide(id, outcome, box);
    const pin = h("input", { id: pinId, type: "password", inputmode: "numeric", maxlength: "6",
      autocomplete: "off" });
    const buttons = DECISIONS.map(([outcome, label]) => outcome === "pay"
      ? h("button", { type: "submit", class: "primary", "data-outcome": outcome }, label)
      : h("button", { type: "button", "data-outcome": outcome, onclick: () => decideNow(outcome) }, label));
    const submit = (event) => {
      event.preventDefault(); // Pay, or Enter in the PIN field
      decideNow("pay");
    };
    box.append(
      h("form", { class: "screen", onsubmit: submit },
        h("p", { class: "carrier" }, h("span", {}, "M-PESA"), h("span", {}, record.phone)),
        h("p", { class: "prompt" }, `Do you want to pay KES ${record.amount} to ${BUSINESS} ` +
          `Account no. ${record.account_reference}? Enter M-PESA PIN:`),
        h("label", { for: pinId }, "M-PESA PIN"),
        pin,
        h("div", { class: "keys" }, buttons),
        h("p", { class: "balance", "data-balance-phone": record.phone }, "Balance: …")),
      h("p", { class: "phone-foot" }, stateBadge(record), " ", countdown(record)),
    );
    return box;
  }

  async function decide(id, outcome, box) {
    const buttons = box.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      upsert(await api("POST", `/transactions/${encodeURIComponent(id)}/decide`, { outcome }));
    } catch (error) {
      buttons.forEach((b) => (b.disabled = false));
      showError(error);
    }
  }

  // Put a record's card (newest first) and, while it waits, its phone on the page.
  function place(record) {
    const id = record.checkout_request_id;
    const show = visible(record);
    const next = card(record);
    next.hidden = !show;
    const previous = cards.get(id);
    if (previous) previous.replaceWith(next);
    else {
      const time = Date.parse(record.created_at);
      const older = [...$("txns").children].find(
        (c) => Date.parse(txns.get(c.dataset.id).created_at) < time);
      $("txns").insertBefore(next, older || null);
    }
    cards.set(id, next);

    const prompt = phones.get(id);
    if (show && record.state !== "completed") {
      if (!prompt) {
        const fresh = phone(record);
        phones.set(id, fresh);
        $("phones").prepend(fresh);
      } else {
        prompt.querySelector(".phone-foot").replaceChildren(stateBadge(record), " ", countdown(record));
      }
    } else if (prompt) {
      prompt.remove();
      phones.delete(id);
    }
    $("phones-empty").hidden = phones.size > 0;
  }

  function renderAll() {
    $("txns").replaceChildren();
    $("phones").replaceChildren();
    cards.clear();
    phones.clear();
    const ordered = [...txns.values()].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
    ordered.forEach(place);
    $("phones-empty").hidden = phones.size > 0;
    showCount();
  }

  function showCount() {
    const shown = [...txns.values()].filter(visible).length;
    $("count").textContent =
      shown === txns.size ? `${txns.size} pushes` : `Showing ${shown} of ${txns.size} pushes`;
  }

  // ---------------------------------------------------------------- scenarios and queue

  function showScenarios(data) {
    // only STK outcomes end a push: fault, C2B and initiator scenarios have other jobs
    scenarios = data.scenarios.filter((s) => s.kind === "stk");
    const options = () =>
      scenarios.map((s) =>
        h("option", { value: s.name },
          s.manual ? `${s.name}: you decide on the phone` : `${s.name}: ResultCode ${s.result_code}`));
    const chosen = $("default-scenario");
    chosen.replaceChildren(...options());
    chosen.value = data.default;
    const queued = $("queue-scenario");
    const keep = queued.value || "manual";
    queued.replaceChildren(...options());
    queued.value = scenarios.some((s) => s.name === keep) ? keep : data.default;
    $("default-help").textContent = scenarios.find((s) => s.name === data.default)?.description || "";
  }

  function showQueue(data) {
    const items = data.queue.flatMap(({ phone, scenarios: names }) =>
      names.map((name) => h("li", {}, h("strong", {}, name), ` for ${phone ? `phone ${phone}` : "any phone"}`)));
    $("queue").replaceChildren(...items);
    if (!items.length) $("queue").append(h("li", { class: "hint empty" }, "Empty: the scenarios decide."));
  }

  const loadQueue = () => api("GET", "/queue").then(showQueue, showError);

  function showFaults(data) {
    const kind = $("fault-kind");
    if (!kind.options.length) kind.replaceChildren(...data.kinds.map((k) => h("option", { value: k }, k)));
    const items = data.rules.map((r) =>
      h("li", {}, h("strong", {}, r.fault), ` on ${r.endpoint === "any" ? "any endpoint" : r.endpoint}`,
        r.remaining !== null ? ` · next ${r.remaining} request(s)` : ` · until ${r.until}`));
    if (data.rate_limit) items.push(h("li", {}, `Rate limit: ${data.rate_limit} requests/s per consumer key`));
    $("faults").replaceChildren(...items);
    if (!items.length) $("faults").append(h("li", { class: "hint empty" }, "None: Daraja answers normally."));
  }

  const loadFaults = () => api("GET", "/faults").then(showFaults, showError);

  // ---------------------------------------------------------------- live feed

  async function refreshAll() {
    const started = performance.now();
    const [list, scenarioList, queue, faults] = await Promise.all([
      api("GET", "/transactions?limit=500"),
      api("GET", "/scenarios"),
      api("GET", "/queue"),
      api("GET", "/faults"),
    ]);
    showScenarios(scenarioList);
    showQueue(queue);
    showFaults(faults);
    const current = new Set(list.transactions.map((t) => t.checkout_request_id));
    for (const [id, record] of txns) if (!current.has(id) && record.seenAt < started) txns.delete(id);
    for (const record of list.transactions) {
      const old = txns.get(record.checkout_request_id);
      if (!old || rank(record) >= rank(old)) {
        txns.set(record.checkout_request_id, { ...old, ...record, seenAt: performance.now() });
      }
    }
    renderAll();
  }

  function setLive(on) {
    const status = $("live");
    status.dataset.live = on ? "yes" : "no";
    status.textContent = on ? "● Live" : "○ Reconnecting…";
  }

  function connect() {
    source?.close();
    const query = token() ? `?token=${encodeURIComponent(token())}` : "";
    source = new EventSource(`${API}/events${query}`);
    source.onopen = () => {
      setLive(true);
      refreshAll().catch(showError); // catch up on whatever happened while disconnected
      refreshers.forEach((refresh) => refresh());
    };
    source.onerror = () => {
      setLive(false);
      if (source.readyState === EventSource.CLOSED) setTimeout(start, 2000);
    };
    source.addEventListener("transaction", (e) => upsert(JSON.parse(e.data), true));
    source.addEventListener("scenarios", (e) => showScenarios(JSON.parse(e.data)));
    source.addEventListener("queue", (e) => showQueue(JSON.parse(e.data)));
    source.addEventListener("faults", (e) => showFaults(JSON.parse(e.data)));
    for (const [kind, handler] of listeners) source.addEventListener(kind, handler);
    source.addEventListener("reset", () => {
      txns.clear();
      opened.clear();
      renderAll();
      loadQueue();
      say("The emulator was reset.");
    });
  }

  async function start() {
    try {
      await api("GET", "/scenarios"); // asks for the token first if one is needed
      connect();
    } catch (error) {
      setLive(false);
      showError(error);
      setTimeout(start, 3000);
    }
  }

  // ---------------------------------------------------------------- controls

  $("default-scenario").addEventListener("change", async (event) => {
    try {
      showScenarios(await api("PUT", "/scenarios/default", { name: event.target.value }));
    } catch (error) {
      showError(error);
      api("GET", "/scenarios").then(showScenarios, showError);
    }
  });

  $("queue-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { scenario: $("queue-scenario").value };
    const phone = $("queue-phone").value.trim();
    if (phone) body.phone = phone;
    try {
      showQueue(await api("POST", "/queue", body));
    } catch (error) {
      showError(error);
    }
  });

  $("queue-clear").addEventListener("click", () => api("DELETE", "/queue").then(showQueue, showError));

  $("fault-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      fault: $("fault-kind").value,
      endpoint: $("fault-endpoint").value,
      count: Number($("fault-count").value) || 1,
    };
    try {
      showFaults(await api("POST", "/faults", body));
    } catch (error) {
      showError(error);
    }
  });

  $("fault-clear").addEventListener("click", () => api("DELETE", "/faults").then(showFaults, showError));

  $("reset").addEventListener("click", async () => {
    if (!confirm("Forget every transaction, queued outcome and scheduled callback?")) return;
    try {
      await api("POST", "/reset");
      txns.clear();
      opened.clear();
      renderAll();
    } catch (error) {
      showError(error);
    }
  });

  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("filter-phone").addEventListener("input", renderAll);
  $("filter-state").addEventListener("change", renderAll);
  $("token-dialog").addEventListener("cancel", (event) => event.preventDefault());

  // what dashboard-ledger.js (money, C2B, QR) builds on; it loads after this file
  window.DarajaDashboard = {
    api, h, showError, say,
    on(kind, handler) {
      listeners.push([kind, handler]);
      source?.addEventListener(kind, handler);
    },
    onRefresh: (refresh) => refreshers.push(refresh),
  };

  setInterval(() => document.querySelectorAll("[data-deadline]").forEach(tick), 500);
  showQueue({ queue: [] });
  showCount();
  start();
})();
