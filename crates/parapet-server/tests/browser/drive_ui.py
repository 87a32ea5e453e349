"""Drives Parapet's web UI in Debian's headless Chromium through ChromeDriver
(Selenium) as a person would, and prints what it saw as JSON.

    python drive_ui.py BASE_URL TOKEN SCREENSHOT_FOLDER

The steps: log in with the token; read the overview; filter the inventory
to production buckets; open a bucket, its history and the diff of its last
change; mute a finding from the findings page (bulk selection); open the
compliance view and one framework's controls; open the topology and draw
the exposure path of the public instance; watch the timeline receive an
event live. A screenshot of each page goes to the folder. The browser
console's messages (a Content Security Policy violation among them) are
reported too. The test that runs it (tests/it/browser.rs) asserts on the
output.
"""

import json
import pathlib
import shutil
import sys
import tempfile
import urllib.parse
import urllib.request

from chromium import browser
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

WEB = "arn:aws:ec2:eu-west-1:111111111111:instance/i-web"


def texts(driver, selector):
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, selector)]


def main():
    base, token, shots = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    shots.mkdir(parents=True, exist_ok=True)
    # A profile of its own each run: one left by an earlier run may be locked.
    profile = tempfile.mkdtemp(prefix="parapet-ui-")
    driver = browser(profile)
    wait = WebDriverWait(driver, 15)
    seen = {}
    try:
        # A login through the identity provider that failed comes back
        # with why; the address is cleaned.
        reason = urllib.parse.quote("the ID token is not valid: it has expired")
        driver.get(base + "/?login_error=" + reason)
        wait.until(ec.text_to_be_present_in_element((By.ID, "login-error"), "expired"))
        seen["sso_error"] = driver.find_element(By.ID, "login-error").text
        seen["address_after_error"] = driver.current_url

        # Log in.
        driver.get(base + "/")
        wait.until(ec.visibility_of_element_located((By.ID, "token")))
        driver.save_screenshot(str(shots / "login.png"))
        driver.find_element(By.ID, "token").send_keys("ppt_wrong")
        driver.find_element(By.ID, "login-submit").click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "login-error"), "not valid"))
        seen["bad_login"] = driver.find_element(By.ID, "login-error").text
        field = driver.find_element(By.ID, "token")
        field.clear()
        field.send_keys(token)
        driver.find_element(By.ID, "login-submit").click()
        wait.until(ec.visibility_of_element_located((By.ID, "posture-score")))
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#newest-events li"))
        seen["who"] = driver.find_element(By.ID, "who").text
        seen["overview"] = {
            "score": driver.find_element(By.ID, "posture-score").text,
            "assets": driver.find_element(By.ID, "asset-count").text,
            "open": driver.find_element(By.ID, "open-count").text,
            "events": len(driver.find_elements(By.CSS_SELECTOR, "#newest-events li")),
        }
        driver.save_screenshot(str(shots / "overview.png"))

        # Filter the inventory: production buckets.
        driver.find_element(By.CSS_SELECTOR, '#nav a[data-page="inventory"]').click()
        wait.until(ec.presence_of_element_located((By.ID, "filter-type")))
        seen["inventory_before"] = len(driver.find_elements(By.CSS_SELECTOR, "#assets tbody tr"))
        Select(driver.find_element(By.ID, "filter-type")).select_by_value("AWS::S3::Bucket")
        driver.find_element(By.ID, "filter-tag").send_keys("env=prod")
        driver.find_element(By.ID, "apply-filters").click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "asset-total"), "3 assets"))
        seen["inventory"] = texts(driver, "#assets tbody tr td:first-child a")
        seen["inventory_total"] = driver.find_element(By.ID, "asset-total").text
        driver.save_screenshot(str(shots / "inventory.png"))

        # Open a bucket and the diff of its last change.
        driver.find_element(By.LINK_TEXT, "prod-logs").click()
        wait.until(ec.presence_of_element_located((By.ID, "history")))
        seen["asset_title"] = driver.find_element(By.TAG_NAME, "h1").text
        seen["history"] = len(driver.find_elements(By.CSS_SELECTOR, "#history tbody tr"))
        driver.find_element(By.CSS_SELECTOR, "button.show-diff").click()
        wait.until(ec.presence_of_element_located((By.ID, "diff-table")))
        seen["diff"] = [
            [c.text for c in row.find_elements(By.TAG_NAME, "td")]
            for row in driver.find_elements(By.CSS_SELECTOR, "#diff-table tbody tr")
        ]
        driver.execute_script("document.getElementById('diff').scrollIntoView()")
        driver.save_screenshot(str(shots / "asset-diff.png"))

        # Mute a finding: pick it on the findings page, mute in bulk.
        driver.get(base + "/#/findings?rule=aws-s3-bucket-versioning-enabled")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#findings tbody tr[data-rule]")))
        seen["findings_before"] = [r.get_attribute("data-asset") for r in driver.find_elements(By.CSS_SELECTOR, "#findings tbody tr[data-rule]")]
        driver.find_element(By.CSS_SELECTOR, '.pick[data-asset="arn:aws:s3:::dev-scratch"]').click()
        driver.find_element(By.ID, "bulk-mute").click()
        wait.until(ec.visibility_of_element_located((By.ID, "mute-reason")))
        driver.find_element(By.ID, "mute-reason").send_keys("scratch bucket, no data kept")
        driver.save_screenshot(str(shots / "findings-mute.png"))
        driver.find_element(By.ID, "mute-submit").click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "toast"), "Muted 1 finding"))
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#findings tbody tr[data-rule]")) == len(seen["findings_before"]) - 1)
        seen["findings_after"] = [r.get_attribute("data-asset") for r in driver.find_elements(By.CSS_SELECTOR, "#findings tbody tr[data-rule]")]
        driver.save_screenshot(str(shots / "findings.png"))

        # Compliance, then one framework's controls.
        driver.find_element(By.CSS_SELECTOR, '#nav a[data-page="compliance"]').click()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".framework")))
        seen["frameworks"] = [f.get_attribute("data-framework") for f in driver.find_elements(By.CSS_SELECTOR, ".framework")]
        driver.save_screenshot(str(shots / "compliance.png"))
        driver.find_element(By.CSS_SELECTOR, '.framework[data-framework="aws-foundational-security-best-practices"] h2 a').click()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, 'tr.control[data-control="S3.14"]')))
        seen["s3_14"] = [
            r.find_elements(By.TAG_NAME, "td")[2].text
            for r in driver.find_elements(By.CSS_SELECTOR, 'tr.control[data-control="S3.14"]')
        ]
        driver.save_screenshot(str(shots / "compliance-framework.png"))

        # The topology, then the exposure path of the public instance.
        driver.get(base + "/#/topology?account=111111111111")
        wait.until(ec.presence_of_element_located((By.ID, "path-select")))
        seen["exposed_nodes"] = [n.get_attribute("data-id") for n in driver.find_elements(By.CSS_SELECTOR, "#graph .node.exposed")]
        Select(driver.find_element(By.ID, "path-select")).select_by_value(WEB)
        driver.find_element(By.ID, "draw").click()
        wait.until(ec.presence_of_element_located((By.ID, "path-text")))
        seen["path_nodes"] = [n.get_attribute("data-id") for n in driver.find_elements(By.CSS_SELECTOR, "#graph .node.on-path")]
        seen["path_edges"] = len(driver.find_elements(By.CSS_SELECTOR, "#graph .edge.on-path"))
        seen["path_text"] = driver.find_element(By.ID, "path-text").text
        driver.find_element(By.CSS_SELECTOR, f'#graph .node[data-id="{WEB}"]').click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "node-info"), "tcp/22-22 from 0.0.0.0/0"))
        seen["node_info"] = driver.find_element(By.ID, "node-info").text
        driver.save_screenshot(str(shots / "topology.png"))

        # The timeline receives an event live: a mute made through the API.
        driver.find_element(By.CSS_SELECTOR, '#nav a[data-page="timeline"]').click()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#timeline li")))
        wait.until(lambda d: "off" not in d.find_element(By.ID, "live").get_attribute("class"))
        before = len(driver.find_elements(By.CSS_SELECTOR, "#timeline li"))
        request = urllib.request.Request(
            base + "/api/v1/mutes",
            data=json.dumps({"reason": "live", "selector": {"asset": "arn:aws:s3:::audit-trail"}}).encode(),
            headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request).read()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#timeline li.fresh"))
        seen["live"] = {
            "before": before,
            "after": len(driver.find_elements(By.CSS_SELECTOR, "#timeline li")),
            "fresh": texts(driver, "#timeline li.fresh .kind"),
        }
        driver.save_screenshot(str(shots / "timeline.png"))
        seen["console"] = [entry["message"] for entry in driver.get_log("browser")]
    except Exception:
        # What the page showed and said when a step failed.
        driver.save_screenshot(str(shots / "failed.png"))
        print(json.dumps({"seen": seen, "console": driver.get_log("browser")}), file=sys.stderr)
        raise
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
