"""The city staff's dashboard in headless Chromium: see scripts/admin-page-check, which starts the server."""
import os

from playwright.sync_api import expect, sync_playwright

from page_checks import check, finish, launch

URL = os.environ["AYUMI_URL"]
ADMIN = os.environ["AYUMI_ADMIN_TOKEN"]
MERCHANT = os.environ["AYUMI_MERCHANT_TOKEN"]
TODAY = os.environ["AYUMI_TODAY"]
WORK = os.environ["AYUMI_WORK_DIR"]

with sync_playwright() as playwright:
    browser = launch(playwright)
    page = browser.new_page(locale="en-US", accept_downloads=True)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(URL + "/admin?lang=en")
    check(page.title() == "Ayumi points for the city", "the page opens in English")

    # A shop's token is not an admin's: refused, and the desk stays hidden.
    page.fill("#token", MERCHANT)
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("The token is not valid")
    check(page.locator("#desk").is_hidden(), "a merchant token does not open the dashboard")

    page.fill("#token", ADMIN)
    page.keyboard.press("Enter")
    expect(page.locator("#desk")).to_be_visible()
    check(page.locator("#version").inner_text().startswith("Ruleset in force: "), "signed in with the admin token")

    # The indicators: a chart per indicator, from GET /v1/reports/kpis.
    page.click("#show-kpis")
    expect(page.locator("#status")).to_have_text("Shown")
    check(page.locator("#report svg").count() == 8, "the indicators show a chart each (8)")
    check("Average daily steps" in page.locator("#report").inner_text(), "the indicators are named")
    with page.expect_download() as download:
        page.click("#kpis-csv")
    download.value.save_as(WORK + "/kpis.csv")
    with open(WORK + "/kpis.csv", encoding="utf-8-sig") as file:
        check(file.readline().startswith("indicator,name,kind,target,target_year,"), "the indicators download as CSV")

    # The beneficiary report of today: its tables and charts, the coefficient's source printed.
    page.fill("#from", TODAY)
    page.fill("#to", TODAY)
    page.click("#show-beneficiaries")
    expect(page.locator("#status")).to_have_text("Shown")
    report = page.locator("#report").inner_text()
    check("Medical cost saved (estimate)" in report and "University of Tsukuba" in report, "the beneficiary report is drawn, with its sources")
    check(page.locator("#report svg").count() == 3, "with its three charts")
    check(page.locator("#report table").count() >= 8, "and its tables")

    with page.expect_download() as download:
        page.click("#beneficiaries-csv")
    download.value.save_as(WORK + "/page.csv")
    check(download.value.suggested_filename == f"ayumi-beneficiaries-{TODAY}-{TODAY}.csv", "the CSV downloads under a telling name")
    with page.expect_download() as download:
        page.click("#beneficiaries-xlsx")
    path = WORK + "/page.xlsx"
    download.value.save_as(path)
    with open(path, "rb") as file:
        check(file.read(2) == b"PK", "the XLSX downloads (a zip package)")

    # A backwards period is the API's problem, shown as it words it.
    page.fill("#from", TODAY)
    page.fill("#to", "2000-01-01")
    page.click("#show-beneficiaries")
    expect(page.locator("#status")).to_have_class("error")
    check("from must not be after to" in page.locator("#status").inner_text(), "a bad period shows the API's problem")

    # Japanese.
    page.goto(URL + "/admin?lang=ja")
    check(page.title() == "あゆみポイント 管理画面", "the page opens in Japanese")
    expect(page.locator("#desk")).to_be_visible()
    page.click("#show-kpis")
    expect(page.locator("#status")).to_have_text("表示しました")
    check("1日平均歩数" in page.locator("#report").inner_text(), "the indicators in Japanese")

    check(errors == [], "no script errors: " + "; ".join(errors))
    check(violations == [], "nothing the page drew broke its Content-Security-Policy: " + "; ".join(violations))
    browser.close()

finish("admin page")
