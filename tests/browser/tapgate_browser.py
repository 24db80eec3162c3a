# SPDX-License-Identifier: ISC
"""The browser side of tests/e2e/browser_console.sh: Debian's chromium,
headless, driven by selenium through chromium-driver, with the WebDriver
virtual authenticator (CTAP2, user verification).  Each check prints one
TAP line, as the shell tests do; a check that fails says why on a "#"
line and takes a screenshot.

Helpers only: the checks are in console_checks.py."""

import base64
import json
import os
import struct
import subprocess
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import (
    StaleElementReferenceException, TimeoutException, WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import (
    Credential, VirtualAuthenticatorOptions)
from selenium.webdriver.support.ui import WebDriverWait

FAILED = []


def ok(name):
    print("ok " + name, flush=True)


def notok(name, why=""):
    FAILED.append(name)
    print("not ok " + name, flush=True)
    for line in str(why).splitlines()[:8]:
        print("#   " + line, flush=True)


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# ---- softfido's state file (firmware_host/core/state.h, host/flash.c)

FLASH_HDR = 48          # magic 8, version 4, length 4, SHA-256 32
CRED_FMT = "<8BiII32s32s32s64s64s64s64s"
CRED_LEN = struct.calcsize(CRED_FMT)
STATE_HEAD = 36         # magic .. next_created
MAX_CREDS = 64


def softfido_creds(path):
    """The in-use credentials of a softfido state file: dicts with id,
    rp_id, priv (the P-256 scalar), counter, alg, resident."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:8] != b"softfido" or len(raw) < FLASH_HDR:
        raise ValueError("%s: not a softfido state file" % path)
    body = raw[FLASH_HDR:]
    (length,) = struct.unpack(">I", raw[12:16])
    size = STATE_HEAD + MAX_CREDS * CRED_LEN + 32
    if length != len(body) or len(body) != size:
        raise ValueError("%s: %d bytes of state, %d expected (state.h "
                         "changed?)" % (path, len(body), size))
    magic, _version, ssize = struct.unpack("<III", body[:12])
    if magic != 0x53464944 or ssize != size:
        raise ValueError("%s: bad magic or size" % path)
    out = []
    for i in range(MAX_CREDS):
        off = STATE_HEAD + i * CRED_LEN
        f = struct.unpack(CRED_FMT, body[off:off + CRED_LEN])
        if not f[0]:
            continue
        rp_len = f[3]
        out.append({"resident": f[1], "alg": f[8], "counter": f[9],
                    "id": f[11], "priv": f[13],
                    "rp_id": f[14][:rp_len].decode(),
                    "user_id": f[15][:f[4]]})
    return out


def p256_pkcs8(scalar):
    """The PKCS#8 DER of a P-256 private key given its scalar."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.derive_private_key(int.from_bytes(scalar, "big"),
                                ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.DER,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


# ---- the browser

class Browser:
    """One headless chromium with its virtual authenticator."""

    def __init__(self, base, resolver_rules, shots, user_data):
        o = webdriver.ChromeOptions()
        o.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
                  "--disable-dev-shm-usage", "--window-size=1200,1000",
                  "--no-first-run", "--user-data-dir=" + user_data,
                  "--host-resolver-rules=" + resolver_rules):
            o.add_argument(a)
        o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.d = webdriver.Chrome(service=Service(os.environ.get(
            "CHROMEDRIVER", "/usr/bin/chromedriver")), options=o)
        self.d.set_script_timeout(30)
        self.base = base
        self.shots = shots
        self.auth = None
        self.counts = {}    # credential id (b64url) -> last sign count

    def quit(self):
        try:
            self.d.quit()
        except WebDriverException:
            pass

    def open(self, frag=""):
        """The console at base/console/ with fragment frag."""
        self.d.get(self.base + "/console/" + frag)

    def goto(self, frag):
        """A hash route of the page already open."""
        self.d.execute_script("location.hash = arguments[0];", frag)

    def shot(self, name):
        os.makedirs(self.shots, exist_ok=True)
        self.d.save_screenshot(os.path.join(self.shots, name + ".png"))

    def logs(self):
        try:
            return self.d.get_log("browser")
        except WebDriverException:
            return []

    def authenticator(self, uv=True):
        """A fresh CTAP2 authenticator (the old one removed), with user
        verification, verifying the user when uv."""
        if self.auth is not None:
            # the counters the credentials reached go to the next one:
            # the appliance refuses a counter that does not grow
            for c in self.d.get_credentials():
                self.counts[c.id] = c.sign_count
            self.d.remove_virtual_authenticator()
        self.d.add_virtual_authenticator(VirtualAuthenticatorOptions(
            protocol="ctap2", transport="usb", has_resident_key=True,
            has_user_verification=True, is_user_consenting=True,
            is_user_verified=uv))
        self.auth = True

    def add_key(self, cred, rp_id, cred_id=None):
        """Put a softfido credential into the authenticator: its id (or
        cred_id), its private key and its counter."""
        cid = cred_id or cred["id"]
        count = max(cred["counter"], self.counts.get(
            base64.urlsafe_b64encode(cid).decode(), 0))
        c = Credential.create_non_resident_credential(
            cid, rp_id, p256_pkcs8(cred["priv"]), count)
        self.d.add_credential(c)

    def text(self, css):
        """The text of css's first element, or "" (also when the page
        redraws it while it is read)."""
        try:
            els = self.d.find_elements(By.CSS_SELECTOR, css)
            return els[0].text if els else ""
        except StaleElementReferenceException:
            return ""

    def wait(self, cond, secs=15):
        """Poll cond(driver) until true; False when it never was."""
        try:
            WebDriverWait(self.d, secs, poll_frequency=0.1).until(cond)
            return True
        except TimeoutException:
            return False

    def wait_css(self, css, secs=15):
        return self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, css),
                         secs)

    def message(self, kind, secs=20):
        """The text of the page's next "ok" or "error" message (the
        "Working..." note passes), or ""."""
        sel = "#main [data-msg=%s]" % kind
        other = "#main [data-msg=%s]" % ("ok" if kind == "error"
                                          else "error")

        def done(d):
            return d.find_elements(By.CSS_SELECTOR, sel) or \
                d.find_elements(By.CSS_SELECTOR, other)
        if not self.wait(done, secs):
            return ""
        return self.text(sel)

    def fill(self, css, value):
        e = self.d.find_element(By.CSS_SELECTOR, css)
        e.clear()
        e.send_keys(value)

    def click(self, css):
        self.d.find_element(By.CSS_SELECTOR, css).click()


def api_as(uid, method, path, body=None):
    """The daemon's API on its Unix socket as uid (curl under setpriv, as
    tests/e2e/lib/daemon.sh's api_as): (status, JSON answer or None)."""
    cmd = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
           "--clear-groups", "curl", "-s", "-o", "-", "-w", "\n%{http_code}",
           "--max-time", "30", "--unix-socket", os.environ["API_SOCK"],
           "-X", method, "-H", "Content-Type: application/json"]
    if body is not None:
        cmd += ["--data-binary", json.dumps(body)]
    out = subprocess.run(cmd + ["http://tapgated" + path],
                         capture_output=True, text=True).stdout
    text, _, status = out.rpartition("\n")
    try:
        answer = json.loads(text) if text else None
    except ValueError:
        answer = None
    return int(status or 0), answer


def check(name, cond, why="", browser=None):
    if cond:
        ok(name)
        return True
    if browser is not None:
        try:
            browser.shot("failed-" + name)
        except WebDriverException:
            pass
    notok(name, why)
    return False


def now():
    return int(time.time())


def finish():
    sys.exit(1 if FAILED else 0)
