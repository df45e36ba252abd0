"""web_browser.py - the half of web_browser.sh that drives headless
Chromium (Debian's chromium + chromium-driver, python3-selenium).

A deployment (examples/vcpe-portal.yaml, runtime process) is up; this
sends each tenant's traffic with nf-gen, signs in as alpha in the
browser, adds NAT, watches the page's counters move, checks with nf-gen,
the replicas' and the switch's counters that alpha's traffic now crosses
NAT and bravo's path did not change, that alpha cannot reach bravo's
data, signs out, and is sent back to sign-in when the session expires.
SCREENSHOTS=1 saves docs/img/portal.png and docs/img/dashboard.png.

Usage: web_browser.py URL RUN_DIR NAME   (BIN, ROOT, T in the environment)
"""
import json, os, subprocess, sys, time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

URL, RUN, NAME = sys.argv[1:4]
BIN, ROOT, T = os.environ["BIN"], os.environ["ROOT"], os.environ["T"]
SHOTS = os.environ.get("SCREENSHOTS") == "1"
FAILED = [0]
SOCK = os.path.join(RUN, NAME, "memif.sock")


def ok(d):
    print("ok - " + d, flush=True)


def check(d, cond, detail=""):
    if cond:
        ok(d)
    else:
        print("not ok - %s (%s)" % (d, detail), flush=True)
        FAILED[0] = 1
    return cond


def check_eq(d, want, got):
    return check(d, want == got, "expected %r, got %r" % (want, got))


def nfchain(*a):
    return subprocess.run([BIN + "/nfchain"] + list(a), capture_output=True, text=True,
                          env=dict(os.environ, NFCHAIN_RUN_DIR=RUN)).stdout


def replicas():
    """rx packets per VNF type (replicas summed), from the agent's probes."""
    time.sleep(0.6)            # the counters come with the next probes (100 ms)
    st = json.loads(nfchain("status", "--json", "--name", NAME))
    out = {}
    for r in st["replicas"]:
        out[r["vnf"]] = out.get(r["vnf"], 0) + r["rx_packets"]
    return out


def rules():
    r = json.loads(nfchain("switch", "--ctl", os.path.join(RUN, NAME, "switch.ctl"), "--json",
                           "rules"))
    return {x["id"]: x["packets"] for x in r["rules"]}


def steering():
    return nfchain("switch", "--ctl", os.path.join(RUN, NAME, "switch.ctl"), "steering")


def gen(src, count, rate="10k", wait=True):
    """nf-gen: COUNT frames of 20 flows from SRC, lan -> wan."""
    p = subprocess.Popen([BIN + "/nf-gen", "--tx", "memif:%s,id=0" % SOCK,
                          "--rx", "memif:%s,id=1" % SOCK, "--src-ip", src,
                          "--dst-ip", "203.0.113.2", "--flows", "20", "--count", str(count),
                          "--rate", rate, "--drain", "500ms", "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if not wait:
        return p
    out, _ = p.communicate(timeout=60)
    return json.loads(out)["rx"]["packets"]


def delta(a, b):
    return {k: b.get(k, 0) - a.get(k, 0) for k in ("fw", "nat", "mon")}


def both(when, a, b):
    """1000 frames of alpha, then 1000 of bravo: each reaches the wan
    port, and crosses exactly the VNFs @a, @b ("fw and nat")."""
    for tenant, src, vnfs in (("alpha", "10.1.0.2", a), ("bravo", "10.2.0.2", b)):
        r0 = replicas()
        check_eq("%s: %s's 1000 frames reach the wan port" % (when, tenant), 1000,
                 gen(src, 1000))
        want = {k: 1000 if k in vnfs.split(" and ") else 0 for k in ("fw", "nat", "mon")}
        check_eq("%s: %s's frames crossed %s, nothing else" % (when, tenant, vnfs), want,
                 delta(r0, replicas()))


def wait(cond, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = cond()
            if v:
                return v
        except Exception:
            pass
        time.sleep(0.2)
    return None


def text(drv, id_):
    return drv.find_element(By.ID, id_).text


opts = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--window-size=1200,1000", "--user-data-dir=" + os.path.join(T, "chromium")):
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
drv.set_page_load_timeout(30)
try:
    # --- before: each tenant's path, by the description
    both("before", "fw", "fw and mon")
    bravo_rules = [l for l in steering().splitlines() if "10.2.0.0" in l]

    # --- alpha signs in
    drv.get(URL + "/portal")
    drv.find_element(By.ID, "tenant").send_keys("alpha")
    drv.find_element(By.ID, "password").send_keys("alpha-pass")
    drv.find_element(By.ID, "signin").click()
    check("signed in: alpha's page", wait(lambda: text(drv, "name") == "alpha"),
          drv.page_source[:300])
    check_eq("the page says alpha's traffic visits fw", "fw", text(drv, "services"))
    src = drv.page_source
    check("nothing of bravo on alpha's page", "bravo" not in src and "10.2.0" not in src)
    check("the checkboxes offer fw and nat, not mon",
          len(drv.find_elements(By.ID, "svc-fw")) == 1 and
          len(drv.find_elements(By.ID, "svc-nat")) == 1 and
          len(drv.find_elements(By.ID, "svc-mon")) == 0)
    before = int(wait(lambda: text(drv, "out-packets")) or -1)
    check_eq("the page's outbound counter: alpha's 1000 frames so far", 1000, before)

    # --- the counters move live while alpha sends
    p = gen("10.1.0.2", 6000, rate="2k", wait=False)
    moved = wait(lambda: int(text(drv, "out-packets")) > before and
                 int(text(drv, "out-packets")) < before + 6000, 10)
    check("the page's counter moved while traffic ran (polled once a second)", moved,
          text(drv, "out-packets"))
    out, _ = p.communicate(timeout=60)
    check_eq("... nf-gen got all 6000 through", 6000, json.loads(out)["rx"]["packets"])
    check("... and the page reached 7000",
          wait(lambda: text(drv, "out-packets") == "7000", 5), text(drv, "out-packets"))
    check("... with a rate shown", text(drv, "out-pps") != "-")
    drv.get(URL + "/portal")   # a page load: the session is not idle (polls do not count)

    # --- alpha adds NAT
    drv.find_element(By.ID, "svc-nat").click()
    drv.find_element(By.ID, "apply").click()
    check("after Apply: the page says fw, nat",
          wait(lambda: text(drv, "services") == "fw, nat"), text(drv, "services"))
    check("... the NAT box stays checked", drv.find_element(By.ID, "svc-nat").is_selected())
    if SHOTS:
        drv.save_screenshot(os.path.join(ROOT, "docs", "img", "portal.png"))
    k0 = rules()
    both("after alpha added NAT (bravo's path unchanged)", "fw and nat", "fw and mon")
    k1 = rules()
    check_eq("the switch's rules counted each tenant's 1000 (1001 alpha, 1003 bravo)",
             (1000, 1000), (k1[1001] - k0[1001], k1[1003] - k0[1003]))
    check_eq("bravo's rules are the same text (so its counters carried on)", bravo_rules,
             [l for l in steering().splitlines() if "10.2.0.0" in l])

    # --- alpha cannot reach bravo
    drv.get(URL + "/portal")
    check("... alpha's page shows the switch's count of its frames (7000 + 1000)",
          wait(lambda: text(drv, "out-packets") == "8000", 5), text(drv, "out-packets"))
    def fetch(path, method="GET", body=None):
        return drv.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "const o = {method: arguments[1], credentials: 'same-origin'};"
            "if (arguments[2] !== null) { o.body = arguments[2]; o.headers = "
            "{'Content-Type': 'application/x-www-form-urlencoded'}; }"
            "fetch(arguments[0], o).then(r => r.text().then(t => done([r.status, t])))"
            ".catch(e => done([0, String(e)]));", path, method, body)
    st, body = fetch("/portal/api/me?tenant=bravo")
    check_eq("/portal/api/me?tenant=bravo from alpha's browser: alpha's own data",
             (200, "alpha"), (st, json.loads(body)["tenant"] if st == 200 else body))
    check("... nothing of bravo in it", "bravo" not in body and "10.2.0" not in body)
    check_eq("/portal/api/bravo: 404", 404, fetch("/portal/api/bravo")[0])
    check_eq("/portal/bravo: 404", 404, fetch("/portal/bravo")[0])
    csrf = drv.find_element(By.NAME, "csrf").get_attribute("value")
    check_eq("picking mon (bravo's, not offered to alpha): 403", 403,
             fetch("/portal/services", "POST", "csrf=%s&svc=mon" % csrf)[0])
    check_eq("the dashboard's status API: 401 for a tenant", 401, fetch("/api/status")[0])

    # --- sign out
    drv.find_element(By.ID, "logout").click()
    check("signed out: the sign-in form", wait(lambda: drv.find_element(By.ID, "signin")))
    check_eq("after sign-out /portal/api/me: 401", 401, fetch("/portal/api/me")[0])

    # --- an expired session goes back to sign-in by itself
    drv.find_element(By.ID, "tenant").send_keys("alpha")
    drv.find_element(By.ID, "password").send_keys("alpha-pass")
    drv.find_element(By.ID, "signin").click()
    check("signed in again", wait(lambda: text(drv, "name") == "alpha"))
    t0 = time.time()
    back = wait(lambda: drv.find_elements(By.ID, "signin"), 15)
    check("left idle, the page returns to the sign-in form on its own (session-timeout 6 s)",
          back and time.time() - t0 >= 5.5, "%.1f s" % (time.time() - t0))

    # --- the operator's dashboard
    drv.get(URL + "/")
    check("the dashboard asks the operator to sign in", wait(lambda: drv.find_element(
        By.ID, "signin")) and "/login" in drv.current_url, drv.current_url)
    drv.find_element(By.ID, "password").send_keys("operator-pass")
    drv.find_element(By.ID, "signin").click()
    check("the dashboard: the chain as a picture",
          wait(lambda: drv.find_element(By.ID, "svg-vcpe")))
    check_eq("... every replica drawn, coloured up", ["#2e9d4a"] * 4,
             [drv.find_element(By.ID, "dot-" + r).get_attribute("fill")
              for r in ("fw-0", "fw-1", "nat-0", "mon-0")])
    check("... the tenant's change among the recent events",
          wait(lambda: "services now fw, nat (portal)" in
               drv.find_element(By.ID, "events").text), 5)
    p = gen("10.1.0.2", 8000, rate="2k", wait=False)
    check("... live pps on the NAT replica while alpha sends",
          wait(lambda: int(drv.find_element(By.CSS_SELECTOR, "#r-nat-0 .pps_in").text) > 0, 10))
    if SHOTS:
        time.sleep(1.2)        # one more poll: every replica's rate
        drv.set_window_size(1200, 1400)
        drv.save_screenshot(os.path.join(ROOT, "docs", "img", "dashboard.png"))
    p.communicate(timeout=60)
    check("... the benchmark plots are shown",
          len(drv.find_elements(By.CSS_SELECTOR, ".plots img")) >= 5 and
          drv.execute_script("return document.querySelector('.plots img').naturalWidth") > 0)
    logs = [l["message"] for l in drv.get_log("browser") if l["level"] == "SEVERE" and
            ("Content Security Policy" in l["message"] or "Uncaught" in l["message"])]
    check_eq("no script error or CSP violation in the browser's console", [], logs)
finally:
    drv.quit()
sys.exit(FAILED[0])
