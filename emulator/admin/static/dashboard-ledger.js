// The QA dashboard's money: balances on the phones, the customer's Lipa na M-PESA (Pay Bill,
// Buy Goods), Dynamic QR codes a phone can scan, and the businesses with their statements.
// Plain JavaScript on top of dashboard.js (window.DarajaDashboard), no build step.
"use strict";
(() => {
  const { api, h, showError, say, on, onRefresh } = window.DarajaDashboard;
  const $ = (id) => document.getElementById(id);
  const money = (text) =>
    Number(text).toLocaleString("en-KE", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : "");
  const PHONE = /^254[17][0-9]{8}$/;
  const STATES = {
    pending: "Pending", validating: "Asking the shop (validation)", completed: "✓ Completed",
    rejected: "✗ Rejected by the shop", failed: "✗ Failed", reversed: "↩ Reversed (money back)",
  };

  // Run `fn` once after a burst of calls (events come in bursts: a payment, then its entry).
  function later(fn, ms = 150) {
    let timer = null;
    return () => {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  // ------------------------------------------------------------ balances on every phone

  // Every element with data-balance-phone shows that customer's wallet: the dashboard's own
  // phone and each STK prompt. One request per phone, however many elements show it.
  async function refreshBalances() {
    const nodes = [...document.querySelectorAll("[data-balance-phone]")];
    const phones = [...new Set(nodes.map((n) => n.dataset.balancePhone))].filter((p) => PHONE.test(p));
    const found = new Map();
    await Promise.all(phones.map((p) =>
      api("GET", `/ledger/customers/${p}`).then((c) => found.set(p, c), () => null)));
    for (const node of nodes) {
      const customer = found.get(node.dataset.balancePhone);
      node.textContent = customer
        ? `Balance: KES ${money(customer.balance)} (${customer.name})`
        : "Balance: unknown (not a customer number)";
    }
  }
  const balancesSoon = later(() => refreshBalances().catch(showError));
  // an STK prompt appears: show its phone's balance too
  new MutationObserver(balancesSoon).observe($("phones"), { childList: true });

  // ------------------------------------------------------------ the customer's phone

  const wallet = {
    phone: () => $("wallet-phone").value.trim(),
    pending: null, // what Send will do: {body, path, describe}
    started: new Map(), // TransID -> what the phone paid, to tell how it ended
    latest: new Map(), // TransID -> the newest state seen on the stream (it may beat our POST)
  };

  function show(step) {
    $("wallet-menu").hidden = step !== "menu";
    $("wallet-form").hidden = step !== "form";
    $("wallet-pin").hidden = step !== "pin";
  }

  function setPhone() {
    const phone = wallet.phone();
    $("wallet-number").textContent = phone;
    $("wallet-balance").dataset.balancePhone = phone;
    if (PHONE.test(phone)) balancesSoon();
    else $("wallet-balance").textContent = "Balance: enter a number such as 254708374149";
  }

  function status(text) {
    $("wallet-status").textContent = text;
  }

  function chooseKind(kind) {
    const till = kind === "till";
    $("wallet-form").dataset.kind = kind;
    $("wallet-form-title").textContent = till ? "Buy Goods" : "Pay Bill";
    $("wallet-shortcode-label").textContent = till ? "Till no." : "Business no.";
    $("wallet-account-row").hidden = till;
    $("wallet-account").required = !till;
    status("");
    show("form");
    $("wallet-shortcode").focus();
  }

  // The last screen before money moves: what is paid to whom, and the PIN.
  function askPin(prompt, path, body) {
    if (!PHONE.test(wallet.phone())) {
      showError(new Error("the phone number must be 2547XXXXXXXX or 2541XXXXXXXX"));
      return;
    }
    wallet.pending = { path, body };
    $("wallet-prompt").textContent = `${prompt} Enter M-PESA PIN:`;
    $("wallet-pin-input").value = "";
    show("pin");
    $("wallet-pin-input").focus();
  }

  $("wallet-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const till = $("wallet-form").dataset.kind === "till";
    const shortcode = $("wallet-shortcode").value.trim();
    const amount = Number($("wallet-amount").value);
    const account = $("wallet-account").value.trim();
    let name = "";
    try {
      name = (await api("GET", `/ledger/businesses/${encodeURIComponent(shortcode)}`)).name;
    } catch (error) {
      showError(error);
      return;
    }
    const to = till ? `${name} till ${shortcode}` : `${name} (${shortcode}) account no. ${account}`;
    const body = { shortcode, phone: wallet.phone(), amount, via: "phone" };
    if (!till) body.bill_ref = account;
    askPin(`Pay KES ${amount} to ${to}?`, "/c2b/pay", body);
  });

  $("wallet-pin").addEventListener("submit", async (event) => {
    event.preventDefault();
    const { path, body } = wallet.pending || {};
    if (!path) return;
    const button = $("wallet-pin").querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const payment = await api("POST", path, { ...body, phone: wallet.phone() });
      wallet.started.set(payment.trans_id, payment);
      status(`${payment.trans_id}: KES ${payment.amount} to ${payment.shortcode} sent · ` +
        `${STATES[payment.state] || payment.state}`);
      say(`Payment ${payment.trans_id} sent.`);
      wallet.pending = null;
      show("menu");
      const seen = wallet.latest.get(payment.trans_id);
      if (seen) c2bChanged(seen); // it ended before our answer came back
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  });

  for (const button of document.querySelectorAll("[data-pay]")) {
    button.addEventListener("click", () => chooseKind(button.dataset.pay));
  }
  for (const button of document.querySelectorAll(".wallet-back")) {
    button.addEventListener("click", () => {
      wallet.pending = null;
      show("menu");
    });
  }
  $("wallet-phone").addEventListener("input", setPhone);

  // A C2B payment changed: the phone says how its own payment ended.
  function c2bChanged(payment) {
    wallet.latest.set(payment.trans_id, payment);
    if (wallet.latest.size > 500) wallet.latest.delete(wallet.latest.keys().next().value);
    const mine = wallet.started.get(payment.trans_id);
    if (mine && mine.state !== payment.state) {
      wallet.started.set(payment.trans_id, payment);
      const why = payment.state === "completed" ? "" : ` (${payment.outcome || ""})`;
      status(`${payment.trans_id}: KES ${payment.amount} to ${payment.shortcode} · ` +
        `${STATES[payment.state] || payment.state}${why}`);
      if (payment.state !== "pending" && payment.state !== "validating") {
        say(`Payment ${payment.trans_id}: ${STATES[payment.state] || payment.state}.`);
      }
    }
    balancesSoon();
    booksSoon();
  }

  // ------------------------------------------------------------ Dynamic QR codes

  // The code's text read back as the phone's camera would: EMVCo tag-length-value fields
  // (lengths in characters) behind a CRC-16/CCITT-FALSE of the UTF-8 text (tag 63).
  function tlv(text) {
    const chars = Array.from(text);
    const fields = {};
    for (let i = 0; i < chars.length;) {
      const tag = chars.slice(i, i + 2).join("");
      const size = Number(chars.slice(i + 2, i + 4).join(""));
      if (!/^[0-9]{2}$/.test(tag) || !Number.isInteger(size)) throw new Error("not a QR payload");
      fields[tag] = chars.slice(i + 4, i + 4 + size).join("");
      i += 4 + size;
    }
    return fields;
  }

  function crc16(text) {
    let crc = 0xffff;
    for (const byte of new TextEncoder().encode(text)) {
      crc ^= byte << 8;
      for (let bit = 0; bit < 8; bit++) crc = ((crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1) & 0xffff);
    }
    return crc.toString(16).toUpperCase().padStart(4, "0");
  }

  function decodeQr(text) {
    if (text.slice(-8, -4) !== "6304" || crc16(text.slice(0, -4)) !== text.slice(-4).toUpperCase()) {
      throw new Error("the QR code's CRC does not match: not a code this emulator made");
    }
    const top = tlv(text);
    const account = tlv(top["26"] || "");
    return {
      merchant: top["59"] || "", amount: Number(top["54"]), trx: account["01"],
      cpi: account["02"], ref: tlv(top["62"] || "")["01"] || "",
    };
  }

  const TRX = { BG: "Buy Goods", PB: "Pay Bill", SB: "Pay a business", SM: "Send Money",
    WA: "Withdraw at agent" };

  function scan(code) {
    let asked;
    try {
      asked = decodeQr(code.payload);
    } catch (error) {
      showError(error);
      return;
    }
    const where = asked.trx === "BG" ? `till ${asked.cpi}` : `${asked.cpi} account no. ${asked.ref}`;
    status(`Scanned: ${TRX[asked.trx] || asked.trx} code.`);
    askPin(`${TRX[asked.trx] || asked.trx}: pay KES ${asked.amount} to ${asked.merchant} ` +
      `(${where}), ref. ${asked.ref}?`, "/qr/scan", { payload: code.payload });
  }

  const codes = new Map(); // id -> its <li>

  function qrItem(code) {
    const what = `${code.trx} KES ${code.amount} to ${code.cpi} (${code.merchant_name}), ` +
      `reference ${code.ref_no}`;
    const button = h("button", { type: "button", class: "primary", disabled: !code.payable },
      "Scan with the phone");
    button.addEventListener("click", () => scan(code));
    return h("li", { class: "qr-code", "data-id": code.id },
      h("img", { src: code.image, alt: `QR code: ${what}`, width: "150", height: "150" }),
      h("div", {},
        h("p", {}, h("strong", {}, `${code.trx_code} · KES ${code.amount}`), ` ${code.merchant_name}`),
        h("p", { class: "hint" }, `To ${code.cpi}, ref. ${code.ref_no} · ${clock(code.created_at)}`),
        code.payable ? null : h("p", { class: "hint" },
          "Pays a person or an agent: the emulator's ledger keeps no such transfers."),
        button));
  }

  function addCode(code, live) {
    if (codes.has(code.id)) return;
    const item = qrItem(code);
    codes.set(code.id, item);
    if (live) $("qr-codes").prepend(item);
    else $("qr-codes").append(item);
    $("qr-empty").hidden = true;
    if (live) say(`New QR code: ${code.trx} KES ${code.amount} to ${code.cpi}.`);
  }

  async function loadCodes() {
    const { codes: list } = await api("GET", "/qr?limit=50");
    $("qr-codes").replaceChildren();
    codes.clear();
    list.forEach((c) => addCode(c, false));
    $("qr-empty").hidden = codes.size > 0;
  }

  // ------------------------------------------------------------ businesses and statements

  let statementOf = null; // the shortcode whose statement is open

  function businessCard(b) {
    const accounts = Object.entries(b.accounts).map(([name, balance]) =>
      h("div", {}, h("dt", {}, name), h("dd", {}, `KES ${money(balance)}`)));
    const open = h("button", { type: "button", class: "small", "aria-pressed": String(statementOf === b.shortcode) },
      `Statement of ${b.shortcode}`);
    open.addEventListener("click", () => {
      statementOf = b.shortcode;
      loadBooks().catch(showError);
    });
    return h("article", { class: "business", "data-shortcode": b.shortcode },
      h("h3", {}, `${b.shortcode} · ${b.kind === "till" ? "Till (Buy Goods)" : "Paybill"} · ${b.name}`),
      h("dl", { class: "facts" }, accounts), open);
  }

  function statementRow(e) {
    return h("tr", {},
      h("td", {}, clock(e.at)), h("td", {}, e.receipt), h("td", {}, e.kind.toUpperCase()),
      h("td", {}, e.phone), h("td", {}, e.reference || ""), h("td", {}, e.account),
      h("td", { class: "num" }, money(e.amount)), h("td", { class: "num" }, money(e.business_balance)));
  }

  async function loadBooks() {
    const { businesses, total } = await api("GET", "/ledger/businesses");
    $("businesses").replaceChildren(...businesses.map(businessCard));
    $("books-total").textContent = `All balances together: KES ${money(total)} (payments never change it).`;
    $("statement").hidden = statementOf === null;
    if (statementOf === null) return;
    const { entries } = await api("GET", `/ledger/entries?shortcode=${encodeURIComponent(statementOf)}&limit=100`);
    $("statement-title").textContent = `Statement of ${statementOf}`;
    $("statement-rows").replaceChildren(...entries.map(statementRow));
    $("statement-empty").hidden = entries.length > 0;
  }
  const booksSoon = later(() => loadBooks().catch(showError));

  // ------------------------------------------------------------ live updates

  on("c2b", (e) => c2bChanged(JSON.parse(e.data)));
  on("qr", (e) => addCode(JSON.parse(e.data), true));
  on("ledger", () => {
    balancesSoon();
    booksSoon();
  });
  // a B2C, B2B or reversal result moved money (or a query's answer was decided): books follow
  on("initiator", () => {
    balancesSoon();
    booksSoon();
  });
  on("transaction", (e) => {
    if (JSON.parse(e.data).state === "completed") {
      balancesSoon();
      booksSoon();
    }
  });
  on("reset", () => {
    wallet.started.clear();
    wallet.latest.clear();
    status("");
    loadCodes().catch(showError);
    balancesSoon();
    booksSoon();
  });
  onRefresh(() => {
    loadCodes().catch(showError);
    balancesSoon();
    booksSoon();
  });

  show("menu");
  setPhone();
})();
