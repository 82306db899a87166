// Doorstep courier terminal. No framework and no build step: the screens
// are drawn with a small element helper, every answer is written to
// IndexedDB the moment it is given, and finished sessions wait in the same
// store until the server has confirmed each one (by its id, so a retry
// never doubles an answer).
"use strict";
(() => {
  const API = "/api/v1";
  const FINISHED = ["completed", "refused", "timed_out"];
  const DEFAULT_TIMEOUT_S = 900; // a survey without its own time-out still closes at some point
  const REVIEW_IDLE_MS = 60000;
  const BATCH = 50;
  const KEEP_SENT_MS = 3 * 86400000;
  const app = document.getElementById("app");
  const bar = document.getElementById("bar");
  const net = document.getElementById("net");

  let texts = {};
  let uiLang = "ru";
  const st = {
    token: null, courier: null, day: null, revoked: false, dayStale: false, reachable: navigator.onLine,
    current: null, // the open session on screen
    screen: "", syncing: false, attempt: 0, retryAt: 0, retryTimer: 0, sendError: "",
  };

  // ---- texts -------------------------------------------------------------
  function t(key, vars, lang) {
    const table = texts[lang || uiLang] || texts.en || {};
    let s = table[key] ?? (texts.en || {})[key] ?? key;
    for (const [k, v] of Object.entries(vars || {})) s = s.split(`{${k}}`).join(String(v));
    return s;
  }
  const tc = (key, vars) => t(key, vars, st.current && st.current.language);
  // A survey text: one string, or one per language.
  function pick(text, lang) {
    if (text == null) return "";
    if (typeof text === "string") return text;
    return text[lang] ?? text.en ?? text.ru ?? Object.values(text)[0] ?? "";
  }

  // ---- storage -----------------------------------------------------------
  const dbp = new Promise((resolve, reject) => {
    const req = indexedDB.open("doorstep-terminal", 1);
    req.onupgradeneeded = () => {
      const d = req.result;
      d.createObjectStore("kv");
      d.createObjectStore("sessions", { keyPath: "id" });
      d.createObjectStore("blobs", { keyPath: "id" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  async function tx(store, mode, fn) {
    const d = await dbp;
    return new Promise((resolve, reject) => {
      const x = d.transaction(store, mode);
      const r = fn(x.objectStore(store));
      x.oncomplete = () => resolve(r && r.result);
      x.onerror = () => reject(x.error);
      x.onabort = () => reject(x.error);
    });
  }
  const kvGet = (k) => tx("kv", "readonly", (s) => s.get(k));
  const kvSet = (k, v) => tx("kv", "readwrite", (s) => s.put(v, k));
  const kvDel = (k) => tx("kv", "readwrite", (s) => s.delete(k));
  const all = (store) => tx(store, "readonly", (s) => s.getAll());
  const get = (store, id) => tx(store, "readonly", (s) => s.get(id));
  const put = (store, v) => tx(store, "readwrite", (s) => s.put(v));
  const del = (store, id) => tx(store, "readwrite", (s) => s.delete(id));

  // ---- drawing -----------------------------------------------------------
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else if (k in el && typeof el[k] !== "object") el[k] = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat(2)) if (kid != null && kid !== false) el.append(kid.nodeType ? kid : String(kid));
    return el;
  }
  const fill = (el, ...nodes) => el.replaceChildren(...nodes.flat(2).filter((n) => n != null && n !== false));
  function show(screen, ...nodes) {
    st.screen = screen;
    document.body.classList.toggle("handover", !!(st.current && st.current.mode === "handover" && screen === "question"));
    fill(app, ...nodes);
    window.scrollTo(0, 0);
  }
  const btn = (label, onclick, cls = "btn", extra = {}) => h("button", { type: "button", class: cls, onclick, ...extra }, label);
  // Online means the server answered the last request, not merely that
  // the device has a network.
  function netBadge() {
    const on = navigator.onLine && st.reachable;
    bar.hidden = false;
    net.textContent = on ? t("online") : t("offline");
    net.classList.toggle("off", !on);
  }
  function reach(ok) {
    if (st.reachable !== ok) { st.reachable = ok; netBadge(); }
  }
  const clock = (ms) => new Date(ms).toLocaleTimeString(uiLang, { hour: "2-digit", minute: "2-digit" });

  // ---- server ------------------------------------------------------------
  function api(method, path, body, type) {
    const headers = { Authorization: `Bearer ${st.token}` };
    if (type) headers["Content-Type"] = type;
    return fetch(API + path, { method, body, headers, cache: "no-store" }).then(
      (r) => { reach(true); return r; },
      (e) => { reach(false); throw e; });
  }
  async function problem(r) {
    try { const p = await r.json(); return p.detail || p.title || `HTTP ${r.status}`; } catch { return `HTTP ${r.status}`; }
  }
  function revoked() {
    st.revoked = true;
    if (st.screen === "home") home();
  }

  async function refreshDay() {
    if (!st.token) return;
    try {
      const r = await api("GET", inspector() ? "/inspections/surveys" : "/terminal/orders");
      if (r.status === 401 || r.status === 403) return revoked();
      if (!r.ok) throw new Error(await problem(r));
      st.day = { ...(await r.json()), fetched_at: Date.now() };
      st.dayStale = false;
      await kvSet("day", st.day);
    } catch {
      st.dayStale = true;
    }
    const card = document.getElementById("orders-card");
    if (card && !inspector()) { card.replaceWith(ordersCard()); markLocallySurveyed(); }
    if (inspector() && st.screen === "home") home();
  }

  // ---- sessions ----------------------------------------------------------
  const timeoutMs = (s) => (s.survey.timeout_seconds || DEFAULT_TIMEOUT_S) * 1000;
  const pending = (s) => FINISHED.includes(s.status) && !s.sent && !s.failed;

  // The show-if rule, shared with the link page (show-if.js).
  const shownAnswers = (survey, answers) => DoorstepShowIf.shown(survey, answers);
  function nextIndex(s, from) {
    const { shown } = shownAnswers(s.survey, s.answers);
    for (let i = from + 1; i < s.survey.questions.length; i++) if (shown.includes(s.survey.questions[i])) return i;
    return -1;
  }
  // The "of N" of the progress: questions shown now, and those still
  // waiting on a question the customer has not reached (they may appear).
  // As answers come it can only shrink, never jump from "3 of 4" to "4 of 5".
  function stepTotal(s) {
    const qs = s.survey.questions;
    const { shown } = shownAnswers(s.survey, s.answers);
    const ahead = (id) => { const i = qs.findIndex((x) => x.id === id); return i >= s.at && s.answers[id] === undefined; };
    const consentAhead = qs.some((x, i) => x.type === "consent" && i >= s.at && s.answers[x.id] === undefined);
    return qs.filter((q) => shown.includes(q)
      || (q.show_if && ahead(q.show_if.question))
      || (["photo", "voice"].includes(q.type) && consentAhead)).length;
  }
  async function save(s) {
    s.last_activity = Date.now();
    await put("sessions", s);
  }
  function reviewDue(s) {
    const review = s.survey.review;
    if (!review || !review.links || !review.links.length) return false;
    const min = review.min_score ?? 9;
    return s.survey.questions.some((q) => q.type === "nps" && typeof s.answers[q.id] === "number" && s.answers[q.id] >= min);
  }
  async function finish(s, status) {
    stopRecording(s.id);
    s.answer_list = shownAnswers(s.survey, s.answers).list;
    s.finished_at = status === "timed_out" ? s.last_activity : Date.now();
    if (status === "completed" && reviewDue(s)) {
      s.status = "review"; // not sent until the customer is done with the links
      await put("sessions", s);
      return reviewScreen(s);
    }
    s.status = status;
    await put("sessions", s);
    st.current = null;
    sync();
    if (status === "timed_out") return home(t("timed_out", { order: s.order_number }));
    if (s.inspection) return home(t("inspect_saved", { order: s.order_number }));
    thanks(s, status);
  }
  async function closeStale() {
    const now = Date.now();
    for (const s of await all("sessions")) {
      if (s.status === "open" && now - s.last_activity > timeoutMs(s)) {
        s.answer_list = shownAnswers(s.survey, s.answers).list;
        s.status = "timed_out";
        s.finished_at = s.last_activity;
        await put("sessions", s);
      } else if (s.status === "review" && (now - s.last_activity > REVIEW_IDLE_MS || st.current !== s)) {
        s.status = "completed";
        await put("sessions", s);
      } else if (s.sent && now - s.sent_at > KEEP_SENT_MS) {
        for (const id of mediaIds(s)) await del("blobs", id);
        await del("sessions", s.id);
      }
    }
  }
  function mediaIds(s) {
    const media = new Set(s.survey.questions.filter((q) => q.type === "photo" || q.type === "voice").map((q) => q.id));
    return (s.answer_list || []).filter(([q, v]) => media.has(q) && typeof v === "string").map(([, v]) => v);
  }
  async function surveyedHere(order, surveyId) {
    return (await all("sessions")).some((s) => s.order_number === order && s.survey_id === surveyId && s.status !== "open" && !s.failed);
  }

  // ---- sending -----------------------------------------------------------
  const iso = (ms) => new Date(ms).toISOString();
  function item(s) {
    const out = {
      id: s.id, order_number: s.order_number, survey_id: s.survey_id, survey_version: s.survey_version,
      status: s.status, started_at: iso(s.started_at), finished_at: iso(s.finished_at),
      answers: s.answer_list.map(([question_id, value]) => ({ question_id, value })),
      mode: s.mode, language: s.language, channel: "terminal",
    };
    if (s.review_opened) out.review_opened = s.review_opened;
    if (s.recording_consent != null) out.recording_consent = s.recording_consent;
    return out;
  }
  async function sync(now) {
    if (st.syncing) { st.again = true; return; }
    if (!st.token || st.revoked) return;
    if (!now && Date.now() < st.retryAt) return;
    st.syncing = true;
    renderSync();
    try {
      const waiting = (await all("sessions")).filter(pending).sort((a, b) => a.finished_at - b.finished_at);
      for (const s of waiting) {
        for (const id of mediaIds(s)) {
          const b = await get("blobs", id);
          if (!b || b.uploaded) continue;
          const r = await api("PUT", `/attachments/${id}`, b.data, b.type);
          if (r.status === 401 || r.status === 403) return revoked();
          if (r.ok) { b.uploaded = true; await put("blobs", b); } else if (r.status >= 400 && r.status < 500 && r.status !== 429) {
            s.failed = true; s.error = await problem(r); await put("sessions", s);
          } else throw new Error(await problem(r));
        }
      }
      await sendRefusals();
      await sendInspections(waiting.filter((s) => s.inspection && !s.failed));
      const ready = waiting.filter((s) => !s.failed && !s.inspection);
      for (let i = 0; i < ready.length; i += BATCH) {
        const chunk = ready.slice(i, i + BATCH);
        const r = await api("POST", "/responses", JSON.stringify(chunk.map(item)), "application/json");
        if (r.status === 401 || r.status === 403) return revoked();
        if (r.status >= 500 || r.status === 429 || !(r.headers.get("content-type") || "").includes("json")) throw new Error(await problem(r));
        const body = await r.json();
        if (!Array.isArray(body.items)) throw new Error(body.detail || `HTTP ${r.status}`);
        for (const res of body.items) {
          const s = chunk[res.index];
          if (!s) continue;
          if (["created", "duplicate", "already_surveyed"].includes(res.result)) {
            s.sent = true; s.sent_at = Date.now(); s.result = res.result;
          } else {
            s.failed = true;
            s.error = (res.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ") || res.result;
          }
          await put("sessions", s);
        }
      }
      await sendRecordings();
      st.attempt = 0; st.retryAt = 0; st.sendError = "";
    } catch (e) {
      st.attempt += 1;
      const delay = Math.min(300, 5 * 2 ** (st.attempt - 1)) * (0.8 + Math.random() * 0.4) * 1000;
      st.retryAt = Date.now() + delay;
      st.sendError = t("send_failed", { seconds: Math.round(delay / 1000) });
      clearTimeout(st.retryTimer);
      st.retryTimer = setTimeout(() => sync(), delay);
    } finally {
      st.syncing = false;
      renderSync();
      if (st.again) { st.again = false; if (!st.retryAt) sync(); }
    }
  }
  async function renderSync() {
    const box = document.getElementById("sync");
    if (!box) return;
    const sessions = await all("sessions");
    const waiting = sessions.filter(pending).length;
    const failed = sessions.filter((s) => s.failed);
    for (const r of (await kvGet("recordings")) || []) if (r.error) failed.push({ order_number: r.order, error: r.error });
    for (const r of (await kvGet("refusals")) || []) if (r.failed) failed.push({ order_number: r.order_number, error: r.error });
    fill(box,
      h("div", { class: "sync" },
        h("strong", { id: "waiting", "data-count": waiting }, waiting ? t("waiting", { n: waiting }) : t("all_sent")),
        waiting ? btn(st.syncing ? t("sending") : t("send_now"), () => sync(true), "btn", { disabled: st.syncing }) : null),
      st.sendError && waiting ? h("p", { class: "muted small" }, st.sendError) : null,
      failed.length ? h("details", { class: "alert error" },
        h("summary", {}, t("rejected", { n: failed.length })),
        failed.map((s) => h("p", { class: "small" }, h("strong", {}, s.order_number), " — ", s.error))) : null,
    );
  }

  // ---- screens -----------------------------------------------------------
  function enrolScreen(message) {
    const code = h("input", { name: "code", required: true, autocomplete: "off", autocapitalize: "characters", placeholder: "K7PM-Q2XD" });
    const device = h("input", { name: "device", maxLength: 100, value: navigator.userAgent.includes("Mobile") ? "Phone" : "Tablet" });
    const error = h("div", { class: "alert error", role: "alert", hidden: !message }, message || "");
    const form = h("form", {
      class: "card",
      onsubmit: async (e) => {
        e.preventDefault();
        error.hidden = true;
        try {
          const r = await fetch(`${API}/terminal/enroll`, {
            method: "POST", headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ code: code.value, device_name: device.value }),
          });
          if (r.status !== 201) { error.textContent = await problem(r); error.hidden = false; return; }
          const got = await r.json();
          st.token = got.token;
          st.courier = { id: got.courier_id, name: got.courier_name || got.courier_id, role: got.role || "terminal" };
          st.revoked = false;
          await kvSet("token", st.token);
          await kvSet("courier", st.courier);
          home();
          refreshDay();
          sync(true);
        } catch {
          error.textContent = t("enrol_offline");
          error.hidden = false;
        }
      },
    },
    h("h1", {}, t("enrol_heading")),
    h("p", { class: "muted" }, t("enrol_text")),
    error,
    h("label", { class: "field" }, t("enrol_code"), code),
    h("label", { class: "field" }, t("enrol_device"), device),
    h("button", { type: "submit", class: "btn primary wide" }, t("enrol_button")));
    show("enrol", form);
    code.focus();
  }

  function home(message) {
    st.current = null;
    if (inspector()) return inspectorHome(message);
    const day = st.day;
    // The placeholder is one of the day's own numbers: the company's format.
    const number = h("input", { name: "order", autocomplete: "off", inputMode: "text", list: "day-orders", placeholder: day && day.orders.length ? day.orders[0].order_number : "" });
    const note = h("div", { class: "alert warn", role: "status", hidden: !message }, message || "");
    const scanBox = h("div", {});
    const start = (value) => startOrder(value, note);
    st.startOrder = start;
    const startCard = h("form", { class: "card", onsubmit: (e) => { e.preventDefault(); start(number.value); } },
      h("label", { class: "field" }, t("order_number"), number),
      h("div", { class: "row" },
        h("button", { type: "submit", class: "btn primary" }, t("order_start")),
        "BarcodeDetector" in window && navigator.mediaDevices ? btn(t("scan"), () => scan(number, scanBox, start)) : null,
        btn(t("refusal_button"), () => refusalScreen(number.value, note), "btn", { id: "refusal" })),
      scanBox,
      h("datalist", { id: "day-orders" }, (day ? day.orders : []).map((o) => h("option", { value: o.order_number }))));

    show("home",
      st.revoked ? h("div", { class: "alert error" }, t("revoked"), " ", btn(t("enrol_button"), () => enrolScreen(), "btn")) : null,
      note,
      h("section", { class: "card", id: "sync" }),
      startCard,
      ordersCard(),
      h("footer", { class: "device muted small" },
        st.courier ? h("p", {}, t("courier", { name: st.courier.name })) : null,
        btn(t("scores_button"), scoresScreen, "btn", { id: "my-scores" }),
        btn(t("unenrol"), unenrol, "btn quiet")));
    renderSync();
    markLocallySurveyed();
  }
  // "14:00–15:00", the promised window in the device's clock.
  // Items the customer refused at the door: kept on the device, sent
  // with a client-made id (a retry records nothing twice).
  const REASONS = ["damaged", "wrong_item", "not_ordered", "changed_mind", "quality", "other"];
  function refusalScreen(value, note) {
    const wanted = value.trim().toLowerCase();
    const order = st.day && st.day.orders.find((o) => o.order_number.toLowerCase() === wanted);
    if (!order) { note.textContent = t(wanted ? "order_unknown" : "refusal_pick", { order: value.trim() }); note.hidden = false; return; }
    const whole = h("input", { type: "checkbox", name: "whole" });
    const rows = h("div", {});
    const error = h("p", { class: "alert error", role: "alert", hidden: true });
    const addRow = () => rows.append(h("fieldset", { class: "item" },
      h("label", { class: "field" }, t("refusal_item"), h("input", { name: "item", maxLength: 200 })),
      h("label", { class: "field" }, t("refusal_quantity"), h("input", { name: "quantity", type: "number", min: 1, max: 10000, value: 1, inputMode: "numeric" })),
      h("label", { class: "field" }, t("refusal_reason"), h("select", { name: "reason" }, REASONS.map((r) => h("option", { value: r }, t(`refusal_${r}`))))),
      h("label", { class: "field" }, t("refusal_note"), h("input", { name: "note", maxLength: 1000 }))));
    addRow();
    show("refusal", h("form", {
      class: "card", id: "refusal-form",
      onsubmit: async (e) => {
        e.preventDefault();
        const items = [...rows.querySelectorAll("fieldset")].map((f) => ({
          item: f.querySelector("[name=item]").value.trim(), quantity: Number(f.querySelector("[name=quantity]").value) || 1,
          reason: f.querySelector("[name=reason]").value, note: f.querySelector("[name=note]").value.trim() || null,
        })).filter((i) => i.item || whole.checked);
        const bad = items.find((i) => i.reason === "other" && !i.note);
        if (!items.length || bad) { error.textContent = t(bad ? "refusal_note_needed" : "refusal_empty"); error.hidden = false; return; }
        const list = (await kvGet("refusals")) || [];
        list.push({ id: crypto.randomUUID(), order_number: order.order_number, whole_order: whole.checked, items, at: Date.now() });
        await kvSet("refusals", list);
        sync(true);
        home(t("refusal_saved", { order: order.order_number }));
      },
    },
    h("h1", {}, t("refusal_heading", { order: order.order_number })),
    h("label", { class: "check" }, whole, " ", t("refusal_whole")),
    rows,
    error,
    h("div", { class: "row" }, btn(t("refusal_more"), addRow, "btn"), h("button", { type: "submit", class: "btn primary", id: "refusal-save" }, t("refusal_save")), btn(t("cancel"), () => home(), "btn quiet"))));
  }
  // Sends the refusals kept on the device; each is forgotten once the
  // server has it (recorded now or before).
  async function sendRefusals() {
    const list = (await kvGet("refusals")) || [];
    for (const r of list.filter((x) => !x.sent && !x.failed)) {
      const res = await api("POST", `/orders/${encodeURIComponent(r.order_number)}/refusals`,
        JSON.stringify({ id: r.id, whole_order: r.whole_order, items: r.items }), "application/json");
      if (res.status === 401 || res.status === 403) return revoked();
      if (res.ok) r.sent = true;
      else if (res.status >= 400 && res.status < 500 && res.status !== 429) { r.failed = true; r.error = await problem(res); }
      else throw new Error(await problem(res));
      await kvSet("refusals", list);
    }
    await kvSet("refusals", list.filter((x) => !x.sent));
  }

  // ---- a mystery shopper's device ------------------------------------------
  // The same screens and the same queue; an inspection is filled about the
  // courier who delivered the order, sent to /inspections, never counted
  // among customers' answers.
  const inspector = () => !!(st.courier && st.courier.role === "inspector");
  function inspectorHome(message) {
    const surveys = (st.day && st.day.surveys) || [];
    const number = h("input", { name: "order", autocomplete: "off", required: true });
    const pickSurvey = h("select", { name: "survey" }, surveys.map((x) => h("option", { value: x.id }, x.name)));
    const note = h("div", { class: "alert warn", role: "status", hidden: !message }, message || "");
    show("home",
      st.revoked ? h("div", { class: "alert error" }, t("revoked"), " ", btn(t("enrol_button"), () => enrolScreen(), "btn")) : null,
      note,
      h("section", { class: "card", id: "sync" }),
      h("form", { class: "card", id: "inspect-form", onsubmit: async (e) => {
        e.preventDefault();
        const order = number.value.trim();
        const survey = surveys.find((x) => x.id === pickSurvey.value);
        if (!order || !survey) return;
        const now = Date.now();
        const langs = survey.languages && survey.languages.length ? survey.languages : [uiLang];
        const s = {
          id: crypto.randomUUID(), order_number: order, survey_id: survey.id, survey_version: survey.version, inspection: true,
          survey, status: "open", mode: "interviewer", language: langs.includes(uiLang) ? uiLang : langs[0],
          started_at: now, last_activity: now, answers: {}, history: [], at: -1,
        };
        s.at = nextIndex(s, -1);
        await put("sessions", s);
        st.current = s;
        question(s);
      } },
      h("h1", {}, t("inspect_heading")),
      h("p", { class: "muted" }, t("inspect_text")),
      surveys.length ? [
        h("label", { class: "field" }, t("order_number"), number),
        surveys.length > 1 ? h("label", { class: "field" }, t("inspect_survey"), pickSurvey) : pickSurvey,
        h("button", { type: "submit", class: "btn primary wide", id: "inspect-start" }, t("inspect_start"))]
        : h("p", { class: "alert warn" }, t(st.dayStale || !st.day ? "inspect_offline" : "inspect_none"))),
      h("footer", { class: "device muted small" },
        h("p", {}, t("inspector", { name: st.courier.name })),
        btn(t("unenrol"), unenrol, "btn quiet")));
    if (surveys.length <= 1) pickSurvey.hidden = true;
    renderSync();
  }
  // Each inspection alone: 201 or 200 (sent before) settles it; another 4xx
  // marks it failed with the server's words; anything else is retried.
  async function sendInspections(list) {
    for (const s of list) {
      if (s.status !== "completed") { s.sent = true; s.sent_at = Date.now(); s.result = "not_finished"; await put("sessions", s); continue; }
      const body = {
        id: s.id, order_number: s.order_number, survey_id: s.survey_id, survey_version: s.survey_version,
        started_at: iso(s.started_at), finished_at: iso(s.finished_at),
        answers: s.answer_list.map(([question_id, value]) => ({ question_id, value })),
      };
      const r = await api("POST", "/inspections", JSON.stringify(body), "application/json");
      if (r.status === 401 || r.status === 403) return revoked();
      if (r.ok) { s.sent = true; s.sent_at = Date.now(); s.result = r.status === 201 ? "created" : "duplicate"; }
      else if (r.status >= 400 && r.status < 500 && r.status !== 429) { s.failed = true; s.error = await problem(r); }
      else throw new Error(await problem(r));
      await put("sessions", s);
    }
  }

  // "My scores": counted by the server, kept on the device for offline.
  async function scoresScreen() {
    const sign = (v) => (v == null ? "—" : (v > 0 ? "+" : "") + v.toFixed(0));
    const day = (iso) => new Date(`${iso}T12:00:00`).toLocaleDateString(uiLang, { day: "numeric", month: "short" });
    const draw = (got, note) => {
      if (st.screen !== "scores" && st.screen !== "scores-wait") return;
      const body = !got ? [h("p", { class: "muted" }, note || t("scores_none"))] : [
        note ? h("p", { class: "alert warn", role: "status", id: "scores-note" }, note) : h("p", { class: "muted small" }, t("scores_counted", { time: clock(Date.parse(got.counted_at)) })),
        h("div", { class: "table-wrap" }, h("table", { class: "scores" },
          h("thead", {}, h("tr", {}, h("th", {}, t("scores_week")), h("th", { class: "num" }, t("scores_mine")), h("th", { class: "num" }, got.city ? t("scores_city", { city: got.city }) : ""))),
          h("tbody", {}, [...got.weeks].reverse().map((w) => h("tr", { "data-week": w.week, class: w.so_far ? "so-far" : "" },
            h("td", {}, day(w.week), w.so_far ? h("span", { class: "muted small" }, " ", t("scores_so_far")) : null),
            h("td", { class: "num" }, h("strong", {}, sign(w.nps)), h("br"), h("span", { class: "muted small" },
              w.nps_ci95_low != null ? t("scores_interval", { low: sign(w.nps_ci95_low), high: sign(w.nps_ci95_high), n: w.nps_n }) : t("scores_n", { n: w.nps_n }))),
            h("td", { class: "num" }, sign(w.city_nps), h("br"), h("span", { class: "muted small" }, t("scores_n", { n: w.city_nps_n })))))))),
        h("h2", {}, t("scores_compliments")),
        got.compliments.length
          ? h("ul", { class: "compliments", id: "compliments" }, got.compliments.map((c) => h("li", {}, h("q", {}, c.text), " ", h("span", { class: "muted small" }, day(c.date)))))
          : h("p", { class: "muted" }, t("scores_no_compliments")),
        got.leaderboard ? [h("h2", {}, t("scores_leaderboard", { city: got.city })), h("ol", { class: "leaders", id: "leaderboard" }, got.leaderboard.map((c) =>
          h("li", { value: c.rank, class: c.you ? "you" : "" }, h("span", {}, c.name, c.you ? ` (${t("scores_you")})` : ""), h("span", { class: "num" }, `${sign(c.nps)} · ${t("scores_n", { n: c.nps_n })}`))))] : null,
      ];
      show("scores", h("section", { class: "card", id: "scores" }, h("h1", {}, t("scores_heading")), body, btn(t("back"), () => home(), "btn", { id: "scores-back" })));
    };
    st.screen = "scores-wait";
    const kept = await kvGet("scores");
    draw(kept, kept ? null : t("scores_loading"));
    try {
      const r = await api("GET", "/terminal/scores");
      if (r.status === 401 || r.status === 403) return revoked();
      if (!r.ok) throw new Error(await problem(r));
      const got = await r.json();
      await kvSet("scores", got);
      draw(got, null);
    } catch {
      draw(kept, kept ? t("scores_offline", { time: clock(Date.parse(kept.counted_at)) }) : t("scores_none"));
    }
  }
  function windowText(o) {
    const at = (iso) => { const d = new Date(iso); return isNaN(d) ? "" : d.toTimeString().slice(0, 5); };
    const a = at(o.promised_from), b = at(o.promised_to);
    return a && b ? `${a}–${b}` : "";
  }
  function ordersCard() {
    const day = st.day;
    const start = st.startOrder;
    const list = day && day.orders.length
      ? h("ul", { class: "orders" }, day.orders.map((o) => {
        const tag = o.survey_id ? (o.surveyed ? ["done", t("status_done")] : ["ask", t("status_ask")]) : ["", t("status_none")];
        return h("li", {}, h("button", { type: "button", onclick: () => start(o.order_number) },
          h("span", {}, h("span", { class: "num" }, o.order_number), h("br"),
            h("span", { class: "muted small" }, [windowText(o), o.customer_name, o.city].filter(Boolean).join(" · "))),
          h("span", { class: `tag ${tag[0]}`, "data-order": o.order_number }, tag[1])));
      }))
      : h("p", { class: "muted" }, t("orders_none"));
    return h("section", { class: "card", id: "orders-card" },
      h("div", { class: "sync" }, h("h2", {}, t("orders_heading", { date: day ? day.date : "—" })), btn(t("orders_refresh"), () => refreshDay(), "btn quiet", { id: "refresh" })),
      day ? h("p", { class: "muted small" }, st.dayStale ? t("orders_stale", { time: clock(day.fetched_at) }) : t("orders_updated", { time: clock(day.fetched_at) })) : null,
      list);
  }
  async function markLocallySurveyed() {
    if (!st.day) return;
    const done = new Set((await all("sessions")).filter((s) => s.status !== "open" && !s.failed).map((s) => s.order_number));
    for (const tag of document.querySelectorAll("[data-order]")) {
      const o = st.day.orders.find((x) => x.order_number === tag.dataset.order);
      if (o && o.survey_id && done.has(o.order_number)) { tag.className = "tag done"; tag.textContent = t("status_done"); }
    }
  }
  async function unenrol() {
    if (!confirm(t("unenrol_confirm"))) return;
    await kvDel("token"); await kvDel("courier"); await kvDel("day");
    Object.assign(st, { token: null, courier: null, day: null, revoked: false });
    enrolScreen();
  }

  async function startOrder(value, note) {
    const wanted = value.trim().toLowerCase();
    if (!wanted) return;
    const order = st.day && st.day.orders.find((o) => o.order_number.toLowerCase() === wanted);
    const say = (key, vars) => { note.textContent = t(key, vars); note.hidden = false; };
    if (!order) return say("order_unknown", { order: value.trim() });
    const survey = order.survey_id && st.day.surveys.find((s) => s.id === order.survey_id);
    if (!survey) return say("order_no_survey", { order: order.order_number });
    if (order.surveyed || await surveyedHere(order.order_number, survey.id)) return say("order_surveyed", { order: order.order_number });
    setupScreen(order, survey);
  }

  async function setupScreen(order, survey) {
    let mode = (await kvGet("mode")) || "handover";
    const langs = survey.languages && survey.languages.length ? survey.languages : [uiLang];
    let lang = langs.includes(uiLang) ? uiLang : langs[0];
    const modeBtn = (m, key) => btn(t(key), () => { mode = m; redraw(); }, "btn", { "aria-pressed": String(mode === m), "data-mode": m });
    const langBtn = (l) => btn(languageName(l), () => { lang = l; redraw(); }, "btn", { "aria-pressed": String(lang === l), "data-lang": l });
    const redraw = () => show("setup", h("section", { class: "card" },
      h("h1", {}, order.order_number),
      h("p", { class: "muted" }, survey.name),
      h("h2", {}, t("mode")),
      h("div", { class: "seg" }, modeBtn("handover", "mode_handover"), modeBtn("interviewer", "mode_interviewer")),
      langs.length > 1 ? [h("h2", {}, t("language")), h("div", { class: "langs" }, langs.map(langBtn))] : null,
      h("div", { class: "row" },
        btn(t("begin"), async () => {
          await kvSet("mode", mode);
          const now = Date.now();
          const s = {
            id: crypto.randomUUID(), order_number: order.order_number, survey_id: survey.id, survey_version: survey.version,
            survey, status: "open", mode, language: lang, started_at: now, last_activity: now, answers: {}, history: [], at: -1,
          };
          s.at = nextIndex(s, -1);
          await put("sessions", s);
          st.current = s;
          if (survey.recording) consentScreen(s); else question(s);
        }, "btn primary", { id: "begin" }),
        btn(t("cancel"), () => home(), "btn"))));
    redraw();
  }
  function languageName(code) {
    try { return new Intl.DisplayNames([code], { type: "language" }).of(code) || code; } catch { return code; }
  }

  function resumeScreen(s) {
    show("resume", h("section", { class: "card" },
      h("h1", {}, t("resume_heading")),
      h("p", {}, t("resume_text", { order: s.order_number })),
      h("div", { class: "row" },
        btn(t("resume"), () => { st.current = s; s.last_activity = Date.now(); save(s).then(() => question(s)); }, "btn primary", { id: "resume" }),
        btn(t("close_timed_out"), () => finish(s, "timed_out"), "btn"))));
    st.resuming = s;
  }

  function question(s) {
    if (s.at < 0) return finish(s, "completed");
    const q = s.survey.questions[s.at];
    const { shown } = shownAnswers(s.survey, s.answers);
    const lang = s.language;
    const value = s.answers[q.id];
    const answered = value !== undefined && value !== null && !(Array.isArray(value) && !value.length) && value !== "";
    const go = () => {
      s.history.push(s.at);
      s.at = nextIndex(s, s.at);
      save(s).then(() => question(s));
    };
    const answer = (v, advance) => {
      s.answers[q.id] = v;
      save(s).then(() => (advance ? go() : question(s)));
    };
    const pressed = (on) => ({ "aria-pressed": String(!!on) });
    let body;
    if (q.type === "nps" || q.type === "scale") {
      const min = q.type === "nps" ? 0 : q.min;
      const max = q.type === "nps" ? 10 : q.max;
      const points = [];
      for (let n = min; n <= max; n++) points.push(btn(String(n), () => answer(n, true), "btn", { ...pressed(value === n), "data-value": n }));
      // Both ends named: the question's own words, else the usual ones for
      // what it measures (the link page does the same).
      const agree = q.measures === "ces";
      const low = q.type === "nps" ? tc("nps_low") : pick(q.min_label, lang) || tc(agree ? "agree_low" : "scale_low");
      const high = q.type === "nps" ? tc("nps_high") : pick(q.max_label, lang) || tc(agree ? "agree_high" : "scale_high");
      body = [h("div", { class: "points" }, points), low || high ? h("div", { class: "ends" }, h("span", {}, low), h("span", {}, high)) : null];
    } else if (q.type === "single_choice") {
      body = h("div", { class: "choices" }, q.options.map((o) => btn(pick(o.text, lang) || o.id, () => answer(o.id, true), "btn", { ...pressed(value === o.id), "data-value": o.id })));
    } else if (q.type === "multi_choice") {
      const chosen = value ? (Array.isArray(value) ? value : value.options) : [];
      const other = value && !Array.isArray(value) ? value.other || "" : "";
      const store = (ids, text) => {
        const v = text ? { options: ids, other: text } : ids;
        s.answers[q.id] = v.length === 0 && !text ? undefined : v;
        return save(s);
      };
      const otherInput = q.other ? h("input", { value: other, maxLength: 500, placeholder: tc("other"), oninput: (e) => store(chosen, e.target.value.trim()) }) : null;
      body = [h("div", { class: "choices" }, q.options.map((o) => btn(pick(o.text, lang) || o.id, () => {
        const ids = chosen.includes(o.id) ? chosen.filter((x) => x !== o.id) : [...chosen, o.id];
        store(ids, otherInput ? otherInput.value.trim() : "").then(() => question(s));
      }, "btn", { ...pressed(chosen.includes(o.id)), "data-value": o.id }))), otherInput ? h("label", { class: "field" }, tc("other"), otherInput) : null];
    } else if (q.type === "consent") {
      body = h("div", { class: "choices" },
        btn(tc("yes"), () => answer(true, true), "btn", { ...pressed(value === true), "data-value": "yes" }),
        btn(tc("no"), () => answer(false, true), "btn", { ...pressed(value === false), "data-value": "no" }));
    } else if (q.type === "text") {
      body = h("textarea", { rows: 4, maxLength: 4000, value: value || "", placeholder: tc("text_placeholder"), oninput: (e) => { s.answers[q.id] = e.target.value || undefined; save(s); nextBtn.disabled = q.required && !e.target.value; } });
    } else if (q.type === "photo") {
      body = photoControl(s, q, value, (id) => answer(id, false));
    } else if (q.type === "voice") {
      body = voiceControl(s, q, value, (id) => answer(id, false));
    } else {
      body = h("p", { class: "muted" }, q.type);
    }
    // "Next" is the big button once there is an answer; before that the
    // way on is a quiet "Skip" (the answer itself moves on).
    const skipping = !answered && !q.required && q.type !== "text";
    const nextBtn = btn(skipping ? tc("skip") : tc("next"), go, skipping ? "btn quiet" : "btn primary", { disabled: q.required && !answered, id: "next" });
    show("question", h("section", { class: "card question", "data-question": q.id },
      s.mode === "interviewer" ? h("p", { class: "muted small" }, `${s.order_number} · ${t("mode_interviewer")}`) : null,
      h("p", { class: "step" }, tc("step", { n: s.history.length + 1, total: Math.max(stepTotal(s), s.history.length + 1) })),
      h("h1", {}, pick(q.text, lang)),
      body,
      h("div", { class: "nav" },
        s.history.length ? btn(tc("back"), () => { s.at = s.history.pop(); save(s).then(() => question(s)); }, "btn") : h("span"),
        nextBtn),
      s.inspection ? null : h("p", { class: "refuse" }, btn(tc("refuse"), () => finish(s, "refused"), "btn quiet", { id: "refuse" }))));
  }

  function photoControl(s, q, value, done) {
    const input = h("input", { type: "file", accept: "image/*", capture: "environment", hidden: true, name: "photo" });
    const preview = h("div", {});
    const error = h("p", { class: "alert error", hidden: true }, tc("photo_failed"));
    if (value) get("blobs", value).then((b) => b && preview.replaceChildren(h("img", { class: "preview", alt: "", src: URL.createObjectURL(new Blob([b.data], { type: b.type })) })));
    input.addEventListener("change", async () => {
      const file = input.files && input.files[0];
      if (!file) return;
      try { done(await keepBlob(await shrink(file))); } catch { error.hidden = false; }
    });
    return h("div", {}, input, preview, error, btn(value ? tc("photo_retake") : tc("photo_take"), () => input.click(), "btn wide"));
  }
  async function shrink(file) {
    try {
      const bmp = await createImageBitmap(file);
      const scale = Math.min(1, 1600 / Math.max(bmp.width, bmp.height));
      const c = document.createElement("canvas");
      c.width = Math.max(1, Math.round(bmp.width * scale));
      c.height = Math.max(1, Math.round(bmp.height * scale));
      c.getContext("2d").drawImage(bmp, 0, 0, c.width, c.height);
      const out = await new Promise((r) => c.toBlob(r, "image/jpeg", 0.82));
      return out || file;
    } catch {
      return file;
    }
  }
  // Keeps a file on the device under its SHA-256, which is also its id on
  // the server: the answer can name it before it is uploaded.
  async function keepBlob(blob) {
    const data = await blob.arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    const id = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    await put("blobs", { id, data, type: blob.type || "application/octet-stream", uploaded: false, created_at: Date.now() });
    return id;
  }

  // ---- the conversation, recorded with consent ----------------------------
  // Asked in the customer's language before the first question; on "yes"
  // the whole conversation is recorded (capped by the survey), kept on the
  // device, and sent after the answers — never before, never delaying them.
  const rec = { recorder: null, session: null, timer: 0 };
  function consentScreen(s) {
    const answer = async (yes) => {
      s.recording_consent = yes;
      await save(s);
      if (yes) await startRecording(s);
      question(s);
    };
    show("consent", h("section", { class: "card question", id: "record-consent" },
      h("h1", {}, tc("record_heading")),
      h("p", {}, tc("record_text", { n: Math.max(1, Math.round(s.survey.recording.max_seconds / 60)) })),
      h("div", { class: "choices" },
        btn(tc("yes"), () => answer(true), "btn", { id: "record-yes" }),
        btn(tc("no"), () => answer(false), "btn", { id: "record-no" }))));
  }
  async function startRecording(s) {
    if (!window.MediaRecorder || !navigator.mediaDevices) return;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const type = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4"].find((x) => MediaRecorder.isTypeSupported(x));
      const r = new MediaRecorder(stream, type ? { mimeType: type, audioBitsPerSecond: 32000 } : {});
      const chunks = [];
      const started = Date.now();
      r.ondataavailable = (e) => e.data.size && chunks.push(e.data);
      r.onstop = async () => {
        stream.getTracks().forEach((tr) => tr.stop());
        if (rec.recorder === r) Object.assign(rec, { recorder: null, session: null });
        const blob = new Blob(chunks, { type: r.mimeType || type || "audio/webm" });
        if (!blob.size) return;
        const id = await keepBlob(blob);
        const list = (await kvGet("recordings")) || [];
        list.push({ id, session: s.id, order: s.order_number, duration_ms: Date.now() - started });
        await kvSet("recordings", list);
        sync(true);
      };
      r.start(1000);
      Object.assign(rec, { recorder: r, session: s.id });
      clearTimeout(rec.timer);
      rec.timer = setTimeout(() => stopRecording(s.id), s.survey.recording.max_seconds * 1000);
    } catch {
      // No microphone, or the browser refused it: the survey goes on.
    }
  }
  function stopRecording(sessionId) {
    if (!rec.recorder || (sessionId && rec.session !== sessionId)) return;
    clearTimeout(rec.timer);
    if (rec.recorder.state !== "inactive") rec.recorder.stop();
  }
  // Each recording once its answers are on the server: the file, then
  // its tie to the response. What waits is listed in kv "recordings" (the
  // file itself in "blobs", read only to upload it); an entry goes once the
  // server has both, or stays marked with the server's refusal.
  async function sendRecordings() {
    const list = (await kvGet("recordings")) || [];
    if (!list.some((x) => !x.failed)) return;
    const sessions = new Map((await all("sessions")).map((x) => [x.id, x]));
    const save = () => kvSet("recordings", list.filter((x) => !x.done));
    for (const r of list.filter((x) => !x.failed)) {
      const s = sessions.get(r.session);
      if (s && s.failed) { r.failed = true; r.error = s.error; await save(); continue; }
      if (s && !s.sent) continue;
      const settle = async (res) => {
        if (res.status === 401 || res.status === 403) { revoked(); return false; }
        if (res.ok) return true;
        if (res.status >= 400 && res.status < 500 && res.status !== 429) {
          r.failed = true; r.error = await problem(res); await save(); return false;
        }
        throw new Error(await problem(res));
      };
      if (!r.uploaded) {
        const b = await get("blobs", r.id);
        if (b && !(await settle(await api("PUT", `/attachments/${r.id}`, b.data, b.type)))) continue;
        r.uploaded = true; await save();
      }
      const tie = { order_number: r.order, attachment_id: r.id, duration_ms: Math.round(r.duration_ms) };
      if (await settle(await api("POST", `/responses/${r.session}/recording`, JSON.stringify(tie), "application/json"))) {
        r.done = true; await del("blobs", r.id); await save();
      }
    }
  }
  function voiceControl(s, q, value, done) {
    if (!window.MediaRecorder || !navigator.mediaDevices) return h("p", { class: "muted" }, tc("voice_unsupported"));
    const status = h("p", { class: "muted" }, value ? tc("voice_recorded", { seconds: s.voice_seconds || "?" }) : "");
    let rec = null;
    let started = 0;
    const control = btn(tc("voice_record"), async () => {
      if (rec) { rec.stop(); return; }
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        const chunks = [];
        rec = new MediaRecorder(stream);
        rec.ondataavailable = (e) => e.data.size && chunks.push(e.data);
        rec.onstop = async () => {
          stream.getTracks().forEach((tr) => tr.stop());
          s.voice_seconds = Math.round((Date.now() - started) / 1000);
          done(await keepBlob(new Blob(chunks, { type: rec.mimeType })));
        };
        started = Date.now();
        rec.start();
        control.textContent = tc("voice_stop");
        s.last_activity = Date.now();
      } catch {
        status.textContent = tc("voice_unsupported");
      }
    }, "btn wide");
    return h("div", {}, status, control);
  }

  function reviewScreen(s) {
    st.current = s;
    const finalize = async (link) => {
      if (link) { s.review_opened = link.id; window.open(link.url, "_blank", "noopener"); }
      s.status = "completed";
      await put("sessions", s);
      st.current = null;
      sync();
      thanks(s, "completed");
    };
    show("review", h("section", { class: "card big-thanks" },
      h("h1", {}, tc("review_heading")),
      h("p", {}, tc("review_text")),
      h("div", { class: "links" }, s.survey.review.links.map((l) => btn(pick(l.label, s.language), () => finalize(l), "btn primary wide", { "data-link": l.id }))),
      btn(tc("done"), () => finalize(null), "btn wide", { id: "done" })));
  }

  function thanks(s, status) {
    const back = () => { if (st.screen === "thanks") home(); };
    show("thanks", h("section", { class: "card big-thanks" },
      h("h1", {}, t(status === "refused" ? "refused_heading" : "thanks_heading", null, s.language)),
      h("p", {}, t("thanks_text", null, s.language)),
      btn(t("done", null, s.language), back, "btn primary", { id: "done" })));
    setTimeout(back, 8000);
  }

  async function scan(input, box, start) {
    let stream;
    let timer = 0;
    const stop = () => { clearInterval(timer); if (stream) stream.getTracks().forEach((tr) => tr.stop()); box.replaceChildren(); };
    try {
      const detector = new window.BarcodeDetector();
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      const video = h("video", { class: "scan", playsInline: true, muted: true });
      video.srcObject = stream;
      box.replaceChildren(video, btn(t("scan_stop"), stop, "btn wide"));
      await video.play();
      timer = setInterval(async () => {
        const found = await detector.detect(video).catch(() => []);
        if (found.length) { input.value = found[0].rawValue; stop(); start(input.value); }
      }, 300);
    } catch {
      stop();
    }
  }

  // Every second: close a session left idle past its survey's time-out.
  function tick() {
    const now = Date.now();
    const s = st.current || (st.screen === "resume" ? st.resuming : null);
    if (!s) return;
    if (s.status === "open" && now - s.last_activity > timeoutMs(s)) finish(s, "timed_out");
    else if (s.status === "review" && now - s.last_activity > REVIEW_IDLE_MS && st.screen === "review") {
      s.status = "completed";
      put("sessions", s).then(() => { st.current = null; sync(); home(); });
    }
  }

  async function boot() {
    try { texts = await (await fetch("texts.json")).json(); } catch { texts = {}; }
    const wanted = (navigator.language || "ru").slice(0, 2);
    uiLang = texts[wanted] ? wanted : "ru";
    document.documentElement.lang = uiLang;
    document.title = t("title");
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(() => {});
    netBadge();
    window.addEventListener("online", () => { reach(true); refreshDay(); sync(true); });
    window.addEventListener("offline", netBadge);
    setInterval(tick, 1000);
    setInterval(() => sync(), 30000);
    [st.token, st.courier, st.day] = await Promise.all([kvGet("token"), kvGet("courier"), kvGet("day")]);
    await closeStale();
    if (!st.token) return enrolScreen();
    const open = (await all("sessions")).find((s) => s.status === "open");
    if (open) resumeScreen(open); else home();
    refreshDay();
    sync(true);
  }
  boot(); // a deferred script: the page is parsed already
})();
