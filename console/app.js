// SPDX-License-Identifier: ISC
//
// The tapgate console: one page, hash routes, the appliance's JSON API.
// Plain JavaScript, no library.  Text from the appliance is only ever
// inserted as text (textContent, text nodes): never as HTML.  Every fetch
// is same-origin with the session cookie (HttpOnly: this script never
// sees it) and, when it changes something, the session's CSRF token.
"use strict";

const main = document.getElementById("main");
let session = null;		// GET /v1/console/session's answer

// ---- small helpers

// el("p", {class: "note"}, "text", node...): an element; strings are text
function el(tag, attrs, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === false || v === null || v === undefined)
			continue;
		e.setAttribute(k, v === true ? "" : String(v));
	}
	for (const k of kids) {
		if (k === null || k === undefined)
			continue;
		e.append(typeof k === "string" || typeof k === "number" ?
		    document.createTextNode(String(k)) : k);
	}
	return e;
}

function show(...nodes) {
	main.replaceChildren(...nodes);
}

// a message box: kind "error", "ok" or "note"; role=alert for refusals
function message(kind, text) {
	return el("p", {class: kind, role: kind === "error" ? "alert" : null,
	    "data-msg": kind}, text);
}

function b64u(buf) {
	const b = new Uint8Array(buf);
	let s = "";
	for (let i = 0; i < b.length; i++)
		s += String.fromCharCode(b[i]);
	return btoa(s).replace(/\+/g, "-").replace(/\//g, "_")
	    .replace(/=+$/, "");
}

function unb64u(s) {
	const t = atob(s.replace(/-/g, "+").replace(/_/g, "/") +
	    "===".slice((s.length + 3) % 4));
	const b = new Uint8Array(t.length);
	for (let i = 0; i < t.length; i++)
		b[i] = t.charCodeAt(i);
	return b;
}

function when(secs) {
	return secs ? new Date(secs * 1000).toISOString()
	    .replace("T", " ").replace(/\.\d+Z$/, " UTC") : "";
}

function duration(s) {
	if (s <= 0)
		return "over";
	const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
	return (h ? h + " h " : "") + (h || m ? m + " min " : "") +
	    (s % 60) + " s";
}

// a live countdown to until (seconds since the epoch): one timer ticks
// every countdown on the page
function tick(e) {
	e.textContent = duration(Number(e.dataset.until) -
	    Math.floor(Date.now() / 1000));
}

function countdown(until) {
	const e = el("span", {class: "countdown", "data-until": until});
	tick(e);
	return e;
}

setInterval(() => {
	for (const e of main.querySelectorAll(".countdown"))
		tick(e);
}, 1000);

function has(role) {
	return session !== null && session.roles.includes(role);
}

function dl(pairs) {
	const d = el("dl");
	for (const [k, v] of pairs) {
		if (v === undefined || v === null || v === "")
			continue;
		d.append(el("dt", {}, k), el("dd", {}, v));
	}
	return d;
}

function table(heads, rows) {
	const t = el("table", {}, el("tr", {}, ...heads.map(h =>
	    el("th", {}, h))));
	for (const r of rows)
		t.append(el("tr", {}, ...r.map(c => el("td", {}, c))));
	return t;
}

function json(v) {
	return el("code", {}, JSON.stringify(v));
}

// ---- the API

class ApiError extends Error {
	constructor(status, code, text) {
		super(text);
		this.status = status;
		this.code = code;
	}
}

async function api(method, path, body) {
	const opt = {method: method, credentials: "same-origin", headers: {}};
	if (body !== undefined) {
		opt.headers["Content-Type"] = "application/json";
		opt.body = JSON.stringify(body);
	}
	if (method !== "GET" && session !== null)
		opt.headers["X-CSRF-Token"] = session.csrf;
	const r = await fetch(path, opt);
	let j = null;
	try {
		j = await r.json();
	} catch (e) {
		j = null;
	}
	if (!r.ok) {
		const err = j && j.error ? j.error : {};
		throw new ApiError(r.status, err.code || "http_" + r.status,
		    (err.code ? err.code + ": " : "") +
		    (err.message || "HTTP " + r.status));
	}
	return j;
}

// what a refusal says on the page: the appliance's words, or the browser's
function refusal(e) {
	if (e instanceof ApiError)
		return "Refused: " + e.message;
	// WebAuthn says no more (on purpose): the key refused, could not
	// verify the user (user verification is required), or was not
	// touched in time
	if (e.name === "NotAllowedError")
		return "Refused by the browser or the key: the key could not " +
		    "verify the user, was not touched in time, or the " +
		    "attempt was cancelled (" + e.message + ")";
	return "Refused by the browser or the key: " + e.name + ": " +
	    e.message;
}

// run f, showing its refusal in box (replacing box's content)
async function attempt(box, f) {
	box.replaceChildren(message("note", "Working..."));
	try {
		await f();
	} catch (e) {
		box.replaceChildren(message("error", refusal(e)));
	}
}

// ---- WebAuthn

async function assertion(b) {
	const cred = await navigator.credentials.get({publicKey: {
		challenge: unb64u(b.challenge),
		rpId: b.rp_id,
		allowCredentials: (b.allow_credentials || []).map(c => ({
			type: "public-key", id: unb64u(c.id)})),
		userVerification: "required",
		timeout: b.timeout_ms || 60000,
	}});
	const r = cred.response;
	return {
		credential_id: b64u(cred.rawId),
		authenticator_data: b64u(r.authenticatorData),
		client_data_json: b64u(r.clientDataJSON),
		signature: b64u(r.signature),
	};
}

// ---- session

async function loadSession() {
	try {
		session = await api("GET", "/v1/console/session");
	} catch (e) {
		session = null;
	}
	drawNav();
}

function drawNav() {
	for (const a of document.querySelectorAll("#nav a[data-role]"))
		a.hidden = !a.dataset.role.split(" ").some(has);
	document.getElementById("nav-signin").hidden = session !== null;
	document.getElementById("signout").hidden = session === null;
	document.getElementById("who").textContent = session === null ? "" :
	    session.user + " (" + session.roles.join(", ") +
	    (session.team ? "; team " + session.team : "") + ")";
}

async function signout() {
	try {
		await api("POST", "/v1/console/signout", {});
	} finally {
		session = null;
		drawNav();
		go("#/signin");
	}
}

// go to hash, drawing the page again when it is the one shown already
function go(hash) {
	if (location.hash === hash)
		route();
	else
		location.hash = hash;
}

function home() {
	if (has("officer") || has("intake"))
		return "#/queue";
	if (has("operator"))
		return "#/dashboard";
	return "#/signin";
}

// ---- pages

function pageSignin() {
	const user = el("input", {id: "user", name: "user", required: true,
	    autocomplete: "username"});
	const box = el("div", {id: "result"});
	const form = el("form", {id: "signin-form"},
	    el("label", {}, "User ", user),
	    el("button", {type: "submit", class: "primary", id: "signin-go"},
	    "Sign in with my security key"));
	form.addEventListener("submit", ev => {
		ev.preventDefault();
		attempt(box, async () => {
			const u = user.value.trim();
			const b = await api("POST",
			    "/v1/console/signin/begin", {user: u});
			const a = await assertion(b);
			a.user = u;
			a.nonce = b.nonce;
			session = await api("POST", "/v1/console/signin", a);
			drawNav();
			box.replaceChildren(message("ok", "Signed in as " +
			    session.user + "."));
			go(home());
		});
	});
	show(el("h2", {}, "Sign in"),
	    el("p", {}, "Your security key signs in: touch it and give its " +
	    "PIN when the browser asks.  Officers use the key they enrolled " +
	    "at the box."), form, box,
	    el("p", {}, "New here with an invitation code? ",
	    el("a", {href: "#/enrol"}, "Enrol your key")));
}

async function pageQueue() {
	const j = await api("GET", "/v1/requests?limit=100");
	const rows = j.requests.map(r => [
		el("a", {href: "#/request/" + r.id}, r.id),
		r.account, r.queue, r.class, r.state,
		r.hold_until ? countdown(r.hold_until) : "",
		r.team || "",
	]);
	show(el("h2", {}, has("officer") ? "Requests" :
	    "Your team's requests"),
	    rows.length ? table(["Request", "Account", "Queue", "Class",
	    "State", "Hold", "Team"], rows) :
	    el("p", {}, "No request."));
}

// the directory's facts as the appliance took them (GET /v1/requests/ID)
function factsOf(r) {
	const d = r.directory || {};
	const c = d.contacts || {};
	const list = v => Array.isArray(v) ? v.join(", ") : "";
	return dl([
		["Account", r.target.account],
		["System", r.target.system],
		["Directory entry", d.dn],
		["Directory class", d.class ? d.class + " (" +
		    (d.class_reason || "") + ")" : ""],
		["Privileged groups", list(d.privileged_groups)],
		["Manager", d.manager],
		["Contacts (masked)", ["mobile", "phone", "mail", "alt_mail"]
		    .map(k => list(c[k])).filter(x => x).join("; ")],
		["Type", list(d.types)],
		["Account state", r.directory ? (d.disabled ? "disabled" :
		    "enabled") + (d.locked ? ", locked" : "") : ""],
		["Looked up", when(d.time)],
	]);
}

// class and why: the decision's effective class, its source and reason
function whyOf(dec) {
	const c = dec.class || {};
	if (!c.effective)
		return "";
	return c.effective + " (" + [c.source, c.reason].filter(x => x)
	    .join(": ") + (c.claimed && c.claimed !== c.effective ?
	    "; claimed " + c.claimed : "") + ")";
}

function policyOf(dec) {
	const ap = dec.approvals || {};
	return dl([
		["Policy", dec.policy_id ? dec.policy_id + " version " +
		    dec.policy_version : ""],
		["Route", dec.route ? dec.route.name + " (" +
		    (dec.route.reason || "") + ")" : ""],
		["Approvals required", ap.required === undefined ? "" :
		    !ap.required ? "none" : (ap.groups || []).map(g =>
		    g.group + ": " + g.counted + " of " + g.required)
		    .join(", ")],
		["Evidence", dec.evidence ? dec.evidence.counted + " of " +
		    dec.evidence.required + " counted, " +
		    dec.evidence.verified + " of " +
		    dec.evidence.verified_required +
		    " verified by the appliance" : ""],
		["Missing", Array.isArray(dec.missing) && dec.missing.length ?
		    dec.missing.map(m => typeof m === "string" ? m :
		    m.text || JSON.stringify(m)).join("; ") : ""],
	]);
}

function evidenceOf(r) {
	const ev = r.evidence || [];
	if (!ev.length)
		return el("p", {}, "No evidence.");
	return table(["Type", "Result", "Channel", "Verified by", "Origin",
	    "Added"], ev.map(e => [e.type, e.result || "", e.channel || "",
	    e.verified_by || e.verifier || "", e.origin || "",
	    when(e.created)]));
}

function approvalsOf(r) {
	const ap = r.approvals || [];
	if (!ap.length)
		return el("p", {id: "approvals"}, "No approval yet.");
	return table(["Officer", "Group", "User verified", "When"],
	    ap.map(a => [a.officer, a.group || "",
	    a.user_verified ? "yes" : "no", when(a.time)]));
}

// the approve part of a request's page: the touch, or why there is none
function approveBox(r, id) {
	const box = el("div", {id: "approve"});
	if (!has("officer"))
		return box;
	if (r.approve_at === "box") {
		box.append(message("note", "This request is approved only at " +
		    "the box: an officer approves it there with the key " +
		    "plugged in."));
		return box;
	}
	if (r.state !== "needs_approval") {
		box.append(el("p", {}, "Nothing to approve in state " +
		    r.state + "."));
		return box;
	}
	const out = el("div", {id: "approve-result"});
	const btn = el("button", {type: "button", class: "primary",
	    id: "approve-go"}, "Approve with my security key");
	btn.addEventListener("click", () => attempt(out, async () => {
		btn.disabled = true;
		try {
			const base = "/v1/requests/" + encodeURIComponent(id) +
			    "/console-approval";
			const b = await api("POST", base + "/begin", {});
			if (b.approve_at === "box")
				throw new ApiError(409, "approve_at_box",
				    "approved only at the box");
			out.replaceChildren(el("p", {}, "Your key signs the " +
			    "change digest ", el("code", {class: "digest"},
			    b.preview ? b.preview.change_digest : ""),
			    ": touch it."));
			const a = await assertion(b);
			a.nonce = b.nonce;
			const f = await api("POST", base, a);
			out.replaceChildren(message("ok", "Approved by " +
			    f.approver + "; the request is now " + f.state +
			    "."));
		} finally {
			btn.disabled = false;
		}
	}));
	box.append(btn, out);
	return box;
}

// an agent starts a challenge (the kinds the queue offers, GET /v1/queues)
// and enters the code the caller read back
async function challengeBox(id, queue) {
	const box = el("div", {id: "challenges"});
	if (!has("intake") && !has("officer"))
		return box;
	let kinds = [];
	try {
		const q = await api("GET", "/v1/queues");
		const mine = (q.queues || []).find(x => x.queue === queue);
		kinds = mine ? mine.challenge_kinds || [] : [];
	} catch (e) {
		kinds = [];
	}
	if (!kinds.length)
		return box;
	const kind = el("select", {name: "kind", id: "challenge-kind"},
	    ...kinds.map(k => el("option", {value: k}, k)));
	// an out_of_band challenge goes to a contact on record
	const contact = el("select", {name: "contact",
	    id: "challenge-contact"}, ...["mobile", "mail", "alt_mail"]
	    .map(k => el("option", {value: k}, k)));
	const showContact = () => {
		contact.hidden = kind.value !== "out_of_band";
	};
	kind.addEventListener("change", showContact);
	showContact();
	const start = el("button", {type: "button", id: "challenge-start"},
	    "Start challenge");
	const code = el("input", {name: "code", id: "challenge-code",
	    autocomplete: "off"});
	const enter = el("button", {type: "button", id: "challenge-answer"},
	    "Enter the code read back");
	const out = el("div", {});
	let cid = null;
	const base = "/v1/requests/" + encodeURIComponent(id) + "/challenges";
	start.addEventListener("click", () => attempt(out, async () => {
		const c = await api("POST", base, kind.value ===
		    "out_of_band" ? {kind: kind.value,
		    contact: contact.value} : {kind: kind.value});
		cid = c.challenge;
		out.replaceChildren(message("ok", "Challenge sent by " +
		    c.channel + " to " + c.destination + "; it expires " +
		    when(c.expires) + ", " + c.max_attempts + " attempts."));
	}));
	enter.addEventListener("click", () => attempt(out, async () => {
		if (cid === null)
			throw new Error("start a challenge first");
		const a = await api("POST", base + "/" +
		    encodeURIComponent(cid) + "/answer",
		    {code: code.value.trim()});
		out.replaceChildren(message("ok", "Code accepted; the request " +
		    "is now " + (a.state || "updated") + "."));
	}));
	box.append(el("h3", {}, "Challenges"),
	    el("p", {}, kind, " ", contact, " ", start),
	    el("p", {}, code, " ", enter), out);
	return box;
}

async function timelineBox(id) {
	const box = el("div", {id: "timeline"});
	if (!has("operator") && !has("officer") && !has("intake"))
		return box;
	try {
		const t = await api("GET", "/v1/requests/" +
		    encodeURIComponent(id) + "/timeline");
		box.append(el("h3", {}, "Timeline"),
		    table(["#", "When", "Event", "Actor", "Detail"],
		    t.events.map(e => [String(e.seq), when(e.time), e.event,
		    e.actor || "", typeof e.detail === "string" ? e.detail :
		    JSON.stringify(e.detail)])));
	} catch (e) {
		box.append(el("p", {}, "Timeline: " + refusal(e)));
	}
	return box;
}

async function pageRequest(id) {
	const r = await api("GET", "/v1/requests/" + encodeURIComponent(id));
	const dec = r.decision || {};
	const req = r.request || {};
	const hold = dec.hold ? dec.hold.until : 0;
	let digest = "";
	if (has("officer") && r.state === "needs_approval") {
		try {
			const p = await api("GET", "/v1/requests/" +
			    encodeURIComponent(id) + "/approval");
			digest = p.change_digest || "";
		} catch (e) {
			digest = "";
		}
	}
	const drops = dec.entitlements_dropped || {};
	show(el("h2", {}, "Request " + r.id),
	    dl([["Queue", r.queue], ["State", el("span", {id: "state"},
	    r.state)], ["Class and why", whyOf(dec) || r.target.class],
	    ["Requested by", (r.requester.agent || "") + " (" +
	    (r.requester.principal || "") + ", team " +
	    (r.requester.team || "") + ")"],
	    ["Ticket", r.requester.ticket], ["Requested", when(r.created)],
	    ["Hold", hold ? countdown(hold) : ""]]),
	    el("h3", {}, "Target"), factsOf(r),
	    el("h3", {}, "Changes"), json(req.changes || {}),
	    el("h3", {}, "Entitlements dropped"),
	    el("p", {id: "drops"}, drops.all_privileged ?
	    "All privileged entitlements" + (drops.names &&
	    drops.names.length ? ": " + drops.names.join(", ") : "") :
	    drops.names && drops.names.length ? drops.names.join(", ") :
	    "None"),
	    el("h3", {}, "Evidence"), evidenceOf(r),
	    el("h3", {}, "Policy"), policyOf(dec),
	    el("h3", {}, "Approvals so far"), approvalsOf(r),
	    el("h3", {}, "Change digest"),
	    el("p", {class: "digest", id: "digest"}, digest ||
	    "(shown to officers while the request awaits approval)"),
	    approveBox(r, id), await challengeBox(id, r.queue),
	    await timelineBox(id));
}

// one change of the queue's vocabulary (GET /v1/queues: name, type,
// required, and for "const" its value) as the form asks for it; the
// input's data-change names it, data-type says how its value is read
function changeField(c) {
	const attrs = {name: "change." + c.name, id: "change-" + c.name,
	    "data-change": c.name, "data-type": c.type,
	    required: c.required && c.type !== "boolean"};
	let input;
	if (c.type === "const") {
		attrs.value = JSON.stringify(c.value);
		attrs.readonly = true;
		input = el("input", attrs);
	} else if (c.type === "boolean") {
		attrs.type = "checkbox";
		input = el("input", attrs);
	} else {
		attrs.placeholder = c.type === "dn_list" ? "DNs, one a line" :
		    c.type;
		input = el(c.type === "dn_list" ? "textarea" : "input", attrs);
	}
	return el("label", {}, c.name + (c.required ? " (required) " : " "),
	    input);
}

// a change's value as the appliance takes it, or undefined when empty
function changeValue(i) {
	switch (i.dataset.type) {
	case "const":
		return JSON.parse(i.value);
	case "boolean":
		return i.checked;
	case "dn_list": {
		const l = i.value.split("\n").map(x => x.trim())
		    .filter(x => x);
		return l.length ? l : undefined;
	}
	default:
		return i.value.trim() === "" ? undefined : i.value.trim();
	}
}

// the queue's vocabulary (GET /v1/queues) makes the form
async function pageSubmit() {
	const q = await api("GET", "/v1/queues");
	const queues = q.queues || [];
	if (!queues.length) {
		show(el("h2", {}, "Submit"), el("p", {}, "No queue is open " +
		    "to you."));
		return;
	}
	const sel = (name, opts) => el("select", {name: name, id: name},
	    ...opts.map(o => el("option", {value: o}, o)));
	const qsel = sel("queue", queues.map(x => x.queue));
	const fields = el("div", {id: "fields"});
	const account = el("input", {name: "account", id: "account",
	    required: true});
	const system = el("input", {name: "system", id: "system",
	    value: "ldap-corp"});
	const agent = el("input", {name: "agent", id: "agent",
	    value: session ? session.user : ""});
	const ticket = el("input", {name: "ticket", id: "ticket"});
	const box = el("div", {id: "result"});
	let current = null;
	const draw = () => {
		current = queues.find(x => x.queue === qsel.value);
		const changes = current.changes || [];
		fields.replaceChildren(
		    el("label", {}, "Class ", sel("class",
		    [""].concat(current.classes || []))),
		    el("label", {}, "Channel ", sel("channel",
		    current.channels || [])),
		    el("fieldset", {}, el("legend", {}, "Changes"),
		    ...changes.map(changeField)),
		    el("p", {}, "Evidence types: " +
		    (current.evidence_types || []).join(", ") +
		    "; challenges: " +
		    (current.challenge_kinds || []).join(", ")));
	};
	qsel.addEventListener("change", draw);
	draw();
	const form = el("form", {id: "submit-form"},
	    el("label", {}, "Queue ", qsel), el("label", {}, "Account ",
	    account), el("label", {}, "System ", system),
	    el("label", {}, "Agent ", agent), el("label", {}, "Ticket ",
	    ticket), fields, el("button", {type: "submit",
	    class: "primary"}, "Submit"));
	form.addEventListener("submit", ev => {
		ev.preventDefault();
		attempt(box, async () => {
			const changes = {};
			for (const i of fields.querySelectorAll(
			    "[data-change]")) {
				const v = changeValue(i);
				if (v !== undefined)
					changes[i.dataset.change] = v;
			}
			const cls = form.querySelector("#class").value;
			const target = {account: account.value.trim(),
			    system: system.value.trim()};
			if (cls)
				target.class = cls;
			const r = await api("POST", "/v1/requests", {
			    queue: qsel.value, target: target,
			    requester: {agent: agent.value.trim(),
			    channel: form.querySelector("#channel").value,
			    ticket: ticket.value.trim()},
			    evidence: [], changes: changes});
			location.hash = "#/request/" + r.id;
		});
	});
	show(el("h2", {}, "Submit a request"), form, box);
}

// the owner's page: the veto code in the fragment is the authority
async function pageVeto(id, code) {
	const box = el("div", {id: "result"});
	let v;
	try {
		v = await api("POST", "/v1/requests/" + encodeURIComponent(id) +
		    "/veto/view", {code: code});
	} catch (e) {
		show(el("h2", {}, "Request " + id), message("error",
		    refusal(e)));
		return;
	}
	const btn = el("button", {type: "button", class: "primary",
	    id: "veto-go", disabled: !v.can_veto}, "Stop it: veto");
	btn.addEventListener("click", () => attempt(box, async () => {
		const r = await api("POST", "/v1/requests/" +
		    encodeURIComponent(id) + "/veto", {code: code});
		btn.disabled = true;
		box.replaceChildren(message("ok", "Vetoed: the request is " +
		    "now " + (r.state || "vetoed") + "."));
	}));
	const changes = Array.isArray(v.changes) ? v.changes.join("; ") :
	    typeof v.changes === "string" ? v.changes :
	    JSON.stringify(v.changes);
	show(el("h2", {}, "A change to your account"),
	    dl([["Request", v.id], ["Account", v.account], ["Queue", v.queue],
	    ["What", changes], ["State", v.state],
	    ["Requested", when(v.requested_at)],
	    ["Happens in", v.hold_until ? countdown(v.hold_until) : ""]]),
	    el("p", {}, v.can_veto ? "If you did not ask for this, stop it " +
	    "now." : "It can no longer be vetoed here."), btn, box);
}

async function pageDashboard() {
	const d = await api("GET", "/v1/dashboard");
	show(el("h2", {}, "Dashboard"),
	    el("h3", {}, "Queues"), table(["Queue", "States"],
	    (d.queues || []).map(q => [q.queue, Object.entries(q.states ||
	    {}).map(([s, n]) => s + ": " + n).join(", ")])),
	    el("h3", {}, "Holds"), table(["Request", "Account", "Queue",
	    "Class", "State", "Ends in"], (d.holds || []).map(h => [
	    el("a", {href: "#/request/" + h.id}, h.id), h.account, h.queue,
	    h.class, h.state, countdown(h.hold_until)])),
	    el("h3", {}, "Alarms"), table(["#", "When", "Event", "Detail"],
	    (d.alarms || []).map(a => [String(a.seq), when(a.time), a.event,
	    typeof a.detail === "string" ? a.detail :
	    JSON.stringify(a.detail)])),
	    el("h3", {}, "Quorum"), table(["Group", "Enrolled", "Active",
	    "Needed"], (d.quorum || []).map(q => [q.group, String(q.enrolled),
	    String(q.active), String(q.needed)])));
}

function pageEnrol() {
	const user = el("input", {id: "user", name: "user", required: true});
	const code = el("input", {id: "code", name: "code", required: true,
	    autocomplete: "off"});
	const box = el("div", {id: "result"});
	const form = el("form", {id: "enrol-form"},
	    el("label", {}, "User ", user), el("label", {}, "Invitation " +
	    "code ", code), el("button", {type: "submit", class: "primary"},
	    "Enrol my security key"));
	form.addEventListener("submit", ev => {
		ev.preventDefault();
		attempt(box, async () => {
			const u = user.value.trim(), c = code.value.trim();
			const b = await api("POST", "/v1/console/enrol/begin",
			    {user: u, code: c});
			const cred = await navigator.credentials.create({
			    publicKey: {
				challenge: unb64u(b.challenge),
				rp: {id: b.rp.id, name: b.rp.name},
				user: {id: unb64u(b.user.id),
				    name: b.user.name,
				    displayName: b.user.display_name},
				pubKeyCredParams: b.pub_key_cred_params,
				excludeCredentials: (b.exclude_credentials ||
				    []).map(x => ({type: "public-key",
				    id: unb64u(x.id)})),
				authenticatorSelection: {
				    userVerification: "required"},
				timeout: b.timeout_ms || 60000,
			    }});
			const r = await api("POST", "/v1/console/enrol", {
			    user: u, code: c, nonce: b.nonce,
			    client_data_json: b64u(cred.response.clientDataJSON),
			    authenticator_data: b64u(
			    cred.response.getAuthenticatorData())});
			box.replaceChildren(message("ok", "Key enrolled for " +
			    r.user + ": sign in with it."));
		});
	});
	show(el("h2", {}, "Enrol your security key"),
	    el("p", {}, "An operator gave you an invitation code.  Your key " +
	    "becomes your way in: there is no password."), form, box);
}

// ---- routing

async function route() {
	const parts = (location.hash || "#/").slice(2).split("/")
	    .map(decodeURIComponent);
	const page = parts[0];
	try {
		if (page === "veto" && parts.length === 3)
			return await pageVeto(parts[1], parts[2]);
		if (page === "enrol")
			return pageEnrol();
		if (page === "signin" || session === null)
			return pageSignin();
		if (page === "queue")
			return await pageQueue();
		if (page === "request" && parts.length === 2)
			return await pageRequest(parts[1]);
		if (page === "submit")
			return await pageSubmit();
		if (page === "dashboard")
			return await pageDashboard();
		go(home());
	} catch (e) {
		if (e instanceof ApiError && e.code === "no_session") {
			session = null;
			drawNav();
			return pageSignin();
		}
		show(message("error", refusal(e)));
	}
}

document.getElementById("signout").addEventListener("click", signout);
window.addEventListener("hashchange", route);
loadSession().then(route);
