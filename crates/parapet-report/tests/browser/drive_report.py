"""Opens an HTML report in Debian's headless Chromium through ChromeDriver
(Selenium), uses its filters as a person would, and prints what it saw as
JSON: the browser console's messages, and after each step the rows of the
results table (status, severity, account, rule) and the count line.
Screenshots of the three tabs (summary.png, frameworks.png, and results.png
filtered to failures with one rule opened) go to the folder given.

    python drive_report.py REPORT.html SCREENSHOT_FOLDER

The test that runs it (tests/it/html.rs) asserts on the output.
"""

import json
import pathlib
import sys

from chromium import browser
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select


def rows(driver):
    """The results table as the page shows it now."""
    table = driver.execute_script(
        """return [...document.querySelectorAll('#results tbody tr')].map(tr => ({
            status: tr.dataset.status,
            severity: tr.dataset.severity,
            rule: tr.querySelector('summary').textContent,
            account: tr.children[4].textContent,
        }));"""
    )
    count = driver.find_element(By.ID, "result-count").text
    return {"rows": table, "count": count}


def main():
    report, shots = pathlib.Path(sys.argv[1]).resolve(), pathlib.Path(sys.argv[2])
    driver = browser(report.with_suffix(".profile"))
    try:
        driver.get(report.as_uri())
        seen = {"title": driver.title}
        cards = driver.find_elements(By.CSS_SELECTOR, "#cards > *")
        seen["summary_cards"] = len(cards)
        driver.save_screenshot(str(shots / "summary.png"))

        driver.find_element(By.CSS_SELECTOR, 'button[data-tab="frameworks"]').click()
        seen["framework_options"] = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "framework-select")).options]
        seen["framework_rows"] = len(driver.find_elements(By.CSS_SELECTOR, "#framework-view tbody tr"))
        seen["frameworks_visible"] = driver.find_element(By.ID, "tab-frameworks").is_displayed()
        driver.save_screenshot(str(shots / "frameworks.png"))

        driver.find_element(By.CSS_SELECTOR, 'button[data-tab="results"]').click()
        seen["results_visible"] = driver.find_element(By.ID, "tab-results").is_displayed()
        seen["summary_visible"] = driver.find_element(By.ID, "tab-summary").is_displayed()
        steps = {"initial": rows(driver)}
        Select(driver.find_element(By.ID, "filter-status")).select_by_value("*")
        steps["every status"] = rows(driver)
        Select(driver.find_element(By.ID, "filter-status")).select_by_value("fail")
        steps["fail"] = rows(driver)
        Select(driver.find_element(By.ID, "filter-severity")).select_by_value("critical")
        steps["fail critical"] = rows(driver)
        Select(driver.find_element(By.ID, "filter-severity")).select_by_value("")
        Select(driver.find_element(By.ID, "filter-status")).select_by_value("*")
        Select(driver.find_element(By.ID, "filter-account")).select_by_value("444455556666")
        steps["every status in 444455556666"] = rows(driver)
        Select(driver.find_element(By.ID, "filter-account")).select_by_value("")
        driver.find_element(By.ID, "search").send_keys("security-group-no-ssh")
        steps["search security-group-no-ssh"] = rows(driver)
        driver.find_element(By.ID, "search").clear()
        driver.find_element(By.ID, "search").send_keys("a-rule-that-does-not-exist")
        steps["search nothing"] = rows(driver)
        driver.find_element(By.ID, "search").clear()
        Select(driver.find_element(By.ID, "filter-status")).select_by_value("fail")
        driver.find_element(By.CSS_SELECTOR, "#results tbody tr details summary").click()
        driver.save_screenshot(str(shots / "results.png"))
        seen["steps"] = steps
        seen["console"] = driver.get_log("browser")
        print(json.dumps(seen))
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
