# SPDX-License-Identifier: ISC
"""The console in a real browser (run by tests/e2e/browser_console.sh,
which starts the daemon, makes the certificates and passes what it set
up in the environment).  One TAP line per check."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tapgate_browser import (  # noqa: E402
    Browser, By, check, finish, notok)

ENV = os.environ


LOGS = []


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
    # framing refused, even by the console itself: the frame stays empty
    # and the browser says why
    b.open("#/signin")
    b.wait_css("#signin-form")
    b.d.execute_script("""
        var f = document.createElement("iframe");
        f.id = "framed";
        f.src = "/console/#/signin";
        document.body.appendChild(f);""")

    def frame_state(d, fid="framed"):
        return d.execute_script("""
            var f = document.getElementById(arguments[0]);
            try {
                f.contentWindow.location.href;
            } catch (e) { return "blocked"; }
            var doc = f.contentDocument;
            return doc && doc.getElementById("signin-form") ?
                "rendered" : "";""", fid)
    # the refused frame shows the browser's error page, of no origin
    b.wait(lambda d: frame_state(d) != "", 10)
    check("console_refuses_to_be_framed", frame_state(b.d) == "blocked",
          "the frame is %r" % frame_state(b.d), b)
    # control: the probe sees a frame that did render
    b.d.execute_script("""
        var f = document.createElement("iframe");
        f.id = "blank";
        document.body.appendChild(f);
        f.contentDocument.body.appendChild(
            document.createElement("form")).id = "signin-form";""")
    check("control_the_probe_sees_a_rendered_frame",
          frame_state(b.d, "blank") == "rendered", "the frame is %r" %
          frame_state(b.d, "blank"))


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


def main():
    b = Browser(ENV["ORIGIN"], ENV["RESOLVER_RULES"], ENV["SHOTS"],
                ENV["USER_DATA"])
    try:
        for f in (pages_load, enrol_page, unknown_user, veto_bad_code):
            try:
                f(b)
            except Exception as e:  # a check's crash fails it, loudly
                notok(f.__name__ + "_ran", "%s: %s" % (type(e).__name__,
                                                       e))
    finally:
        b.quit()
    finish()


main()
