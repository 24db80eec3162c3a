# SPDX-License-Identifier: ISC
"""The console in a real browser (run by tests/e2e/browser_console.sh,
which starts the daemon, makes the certificates and passes what it set
up in the environment).  One TAP line per check."""

import http.server
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tapgate_browser import (  # noqa: E402
    Browser, By, api_as, b64u, check, finish, notok, now, softfido_creds)

ENV = os.environ


LOGS = []


def framing_page(url):
    """An HTTP server on a loopback port of its own (a thread) whose page
    frames url."""
    page = ("<!DOCTYPE html><title>framing</title><iframe id=framed "
            "src='%s'></iframe>" % url).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/" else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            if self.path == "/":
                self.wfile.write(page)

        def log_message(self, *args):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def csp_refusals(b):
    """The browser's reports of what the page's policy refused (the log
    is read once: each read is kept in LOGS)."""
    LOGS.extend(b.logs())
    return [m["message"] for m in LOGS
            if "Content Security Policy" in m.get("message", "")]


def pages_load(b):
    b.open("#/signin")
    check("console_loads_over_trusted_https",
          b.wait_css("#signin-form") and
          b.d.execute_script("return window.isSecureContext;"),
          "no sign-in form on " + b.d.current_url, b)
    check("page_is_served_from_the_console_origin",
          b.d.execute_script("return location.origin;") == ENV["ORIGIN"],
          b.d.execute_script("return location.origin;"))
    b.shot("signin")
    refused = csp_refusals(b)
    check("console_runs_without_a_policy_violation", not refused,
          "; ".join(refused))
    del LOGS[:]
    # control: the browser reports what the policy refuses (an inline
    # script added to the page is not run, and is reported)
    ran = b.d.execute_script("""
        window.inlineRan = false;
        var s = document.createElement("script");
        s.textContent = "window.inlineRan = true;";
        document.body.appendChild(s);
        return window.inlineRan;""")
    check("inline_script_is_refused_by_the_policy", ran is False,
          "an inline script ran")
    check("control_the_browser_reports_the_refusal",
          b.wait(lambda d: csp_refusals(b), 5), "no report in the log")
    # framing refused: a page of another origin (served here, with no
    # policy of its own) frames the console; the browser refuses and says
    # so in the framing page's log
    srv = framing_page(ENV["ORIGIN"] + "/console/")
    try:
        b.d.get("http://127.0.0.1:%d/" % srv.server_address[1])
        b.wait_css("#framed")

        def framing_refusals(d):
            LOGS.extend(b.logs())
            return [m["message"] for m in LOGS
                    if "frame-ancestors" in m.get("message", "") or
                    "X-Frame-Options" in m.get("message", "")]
        check("console_refuses_to_be_framed", b.wait(framing_refusals, 10),
              "no refusal reported: %r" % LOGS[-5:], b)
    finally:
        srv.shutdown()
        srv.server_close()


def enrol_page(b):
    b.open("#/enrol")
    check("enrol_page_shows_its_form", b.wait_css("#enrol-form"), "", b)
    b.shot("enrol")


def unknown_user(b):
    b.authenticator()
    b.open("#/signin")
    b.wait_css("#signin-form")
    b.fill("#user", "nobody-here")
    b.click("#signin-go")
    msg = b.message("error")
    check("unknown_users_signin_is_refused_on_the_page",
          msg.startswith("Refused"), "page said: %r" % msg, b)


def veto_bad_code(b):
    b.open("#/veto/%s/WRONGCODE1234" % ENV.get("VETO_ID", "nope"))
    msg = b.message("error")
    check("veto_page_with_a_wrong_code_shows_the_refusal",
          msg.startswith("Refused"), "page said: %r" % msg, b)
    check("veto_page_with_a_wrong_code_offers_no_veto",
          not b.d.find_elements(By.CSS_SELECTOR, "#veto-go"), "", b)
    b.shot("veto-refused")


RP_ID = "tapgate.local"


def officer_key(state):
    creds = [c for c in softfido_creds(state) if c["rp_id"] == RP_ID]
    if len(creds) != 1:
        raise ValueError("%s: %d credentials for %s, one expected" %
                         (state, len(creds), RP_ID))
    return creds[0]


def page_sign(b, begin):
    """The console page's own assertion() (app.js: what its approve
    button runs) over a begin answer, in the browser, with the virtual
    authenticator: ("ok", the assertion) or ("refused", the browser's
    words)."""
    r = b.d.execute_async_script("""
        var done = arguments[arguments.length - 1];
        assertion(arguments[0]).then(
            function (a) { done({ok: a}); },
            function (e) { done({err: e.name + ": " + e.message}); });""",
                                 begin)
    return ("ok", r["ok"]) if "ok" in r else ("refused", r["err"])


def finish_as(uid, rid, begin, a):
    body = dict(a)
    body["nonce"] = begin["nonce"]
    return api_as(uid, "POST", "/v1/requests/%s/console-approval" % rid,
                  body)


def begin_as(uid, rid):
    st, j = api_as(uid, "POST",
                   "/v1/requests/%s/console-approval/begin" % rid)
    if st != 200:
        raise RuntimeError("begin: HTTP %d %r" % (st, j))
    return j


def code(j):
    return (j or {}).get("error", {}).get("code", "")


# the key answers as the test makes it (a wrapper around the browser's
# navigator.credentials.get; the page's code is unchanged): with another
# credential than the one the appliance allows, or as the page asks
KEY_WRAP = """
    var other = arguments[0];
    if (!window.realGet)
        window.realGet = navigator.credentials.get.bind(
            navigator.credentials);
    navigator.credentials.get = function (o) {
        if (other !== null)
            o.publicKey.allowCredentials = [{type: "public-key",
                id: unb64u(other)}];
        return window.realGet(o);
    };"""


def session_approval(b):
    """An officer signs in with the key enrolled at the box, sees the
    queue, and approves on the request's page; a second officer's key
    under her session is refused on the page."""
    rid = ENV["SESSION_ID"]
    ann, ben = officer_key(ENV["ANN_STATE"]), officer_key(ENV["BEN_STATE"])
    b.open("#/signin")
    b.wait_css("#signin-form")
    b.authenticator()
    b.add_key(ann, RP_ID)
    b.add_key(ben, RP_ID)
    b.fill("#user", "ann")
    b.click("#signin-go")
    # signed in, the page says who and goes to the queue
    check("officer_signs_in_with_the_key_enrolled_at_the_box",
          b.wait(lambda d: b.text("#who").startswith("ann (officer")),
          "page said: %r / %r" % (b.text("#who"), b.text("#main")), b)
    b.goto("#/queue")
    check("signed_in_officer_sees_the_queue",
          b.wait(lambda d: rid in b.text("#main")), b.text("#main"), b)
    b.shot("queue")
    b.goto("#/request/" + rid)
    b.wait_css("#approve-go")
    check("request_page_shows_the_change_digest",
          b.wait(lambda d: len(b.text("#digest")) == 43),
          b.text("#digest"), b)
    b.shot("request")
    b.d.execute_script(KEY_WRAP, b64u(ben["id"]))
    b.click("#approve-go")
    msg = b.message("error")
    check("second_officers_key_under_the_officers_session_is_refused_on_"
          "the_page", "not_your_credential" in msg, "page said: %r" % msg, b)
    b.d.execute_script(KEY_WRAP, None)
    b.click("#approve-go")
    msg = b.message("ok")
    check("officer_approves_on_the_request_page",
          msg.startswith("Approved by officer-ann"), "page said: %r" % msg,
          b)
    b.shot("approved")


def browser_approval(b):
    """Officers approve an admin recovery with the credentials their keys
    enrolled at the box, signing in the browser from the console's
    origin; what must be refused is."""
    ann_uid, ben_uid = int(ENV["ANN"]), int(ENV["BEN"])
    rid = ENV["APPROVE_ID"]
    ann, ben = officer_key(ENV["ANN_STATE"]), officer_key(ENV["BEN_STATE"])
    b.open("#/signin")
    b.wait_css("#signin-form")
    b.authenticator()
    b.add_key(ann, RP_ID)
    b.add_key(ben, RP_ID)

    # a second officer's key under the first officer's attempt: the
    # browser is asked for ben's credential, as his key would answer
    bg = begin_as(ann_uid, rid)
    bg2 = dict(bg, allow_credentials=[{"type": "public-key",
                                       "id": b64u(ben["id"])}])
    how, a = page_sign(b, bg2)
    check("control_browser_signs_with_the_second_officers_key", how == "ok",
          a)
    st, j = finish_as(ann_uid, rid, bg, a) if how == "ok" else (0, None)
    check("second_officers_key_under_the_first_officer_is_refused",
          st == 403 and code(j) == "not_your_credential", "%d %r" % (st, j))

    # the first officer's own, then its replays
    bg = begin_as(ann_uid, rid)
    how, good = page_sign(b, bg)
    check("browser_signs_with_the_key_enrolled_at_the_box", how == "ok",
          good)
    # a stale nonce: the assertion comes back after the attempt expired
    stale = begin_as(ann_uid, rid)
    how, a = page_sign(b, stale)
    b.wait(lambda d: now() > stale["expires"], 15)
    st, j = finish_as(ann_uid, rid, stale, a) if how == "ok" else (0, None)
    check("stale_nonce_is_refused",
          st == 403 and code(j) == "nonce_expired", "%d %r" % (st, j))
    bg = begin_as(ann_uid, rid)
    how, good = page_sign(b, bg)
    st, j = finish_as(ann_uid, rid, bg, good)
    check("officer_approves_with_the_browsers_assertion",
          st == 200 and j.get("approver") == "officer-ann" and
          j.get("state") == "needs_approval", "%d %r" % (st, j))
    st, j = finish_as(ann_uid, rid, bg, good)
    check("replayed_assertion_is_refused",
          st == 403 and code(j) == "nonce_unknown", "%d %r" % (st, j))

    # a foreign origin: the same page served under another name
    bg = begin_as(ben_uid, rid)
    b.d.get(ENV["FOREIGN"] + "/console/#/signin")
    b.wait_css("#signin-form")
    how, a = page_sign(b, bg)
    st, j = finish_as(ben_uid, rid, bg, a) if how == "ok" else (0, None)
    check("foreign_origin_is_refused",
          st == 403 and code(j) == "origin_refused", "%s %d %r" %
          (how, st, j))

    # no user verification: an authenticator that does not verify the user
    b.open("#/signin")
    b.wait_css("#signin-form")
    b.authenticator(uv=False)
    b.add_key(ben, RP_ID)
    bg = begin_as(ben_uid, rid)
    how, a = page_sign(b, bg)
    if how == "ok":
        st, j = finish_as(ben_uid, rid, bg, a)
        check("assertion_without_user_verification_is_refused",
              st == 403 and code(j) == "presence_or_verification_missing",
              "%d %r" % (st, j))
    else:
        # the browser itself refuses: the key cannot verify the user
        check("assertion_without_user_verification_is_refused",
              "NotAllowedError" in a, a)
    print("# without user verification: %s" % (
        "the appliance refused it" if how == "ok" else
        "the browser refused it"), flush=True)

    # the second officer, verified: the request goes to its hold
    b.authenticator()
    b.add_key(ben, RP_ID)
    bg = begin_as(ben_uid, rid)
    how, a = page_sign(b, bg)
    st, j = finish_as(ben_uid, rid, bg, a) if how == "ok" else (0, a)
    check("second_officer_approves_from_the_browser",
          st == 200 and j.get("state") == "in_hold", "%d %r" % (st, j))


def owner_veto(b):
    """The owner opens the link of her message and vetoes."""
    b.d.get(ENV["VETO_LINK"])
    check("veto_page_shows_the_request_to_the_owner",
          b.wait_css("#veto-go") and "carol" in b.text("#main"),
          b.text("#main"), b)
    check("veto_page_offers_the_veto",
          b.d.find_element(By.CSS_SELECTOR, "#veto-go").is_enabled(),
          "the button is disabled", b)
    b.shot("veto")
    b.click("#veto-go")
    msg = b.message("ok")
    check("owner_vetoes_from_the_page", msg.startswith("Vetoed"),
          "page said: %r / %r" % (msg, b.text("#main")), b)
    b.shot("vetoed")


def main():
    b = Browser(ENV["ORIGIN"], ENV["RESOLVER_RULES"], ENV["SHOTS"],
                ENV["USER_DATA"])
    try:
        steps = (pages_load, enrol_page, unknown_user, veto_bad_code,
                 session_approval, browser_approval)
        if ENV.get("PHASE") == "veto":
            steps = (owner_veto,)
        for f in steps:
            try:
                f(b)
            except Exception as e:  # a check's crash fails it, loudly
                notok(f.__name__ + "_ran", "%s: %s" % (type(e).__name__,
                                                       e))
    finally:
        b.quit()
    finish()


main()
