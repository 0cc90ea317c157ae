"""The merchant page in headless Chromium: see scripts/merchant-page-check, which starts the server."""
import json
import os
import urllib.request

from playwright.sync_api import expect, sync_playwright

from page_checks import check, finish, launch

URL = os.environ["AYUMI_URL"]
MERCHANT = os.environ["AYUMI_MERCHANT_TOKEN"]
RESIDENT = os.environ["AYUMI_RESIDENT_TOKEN"]


def api(method, path, token, body=None):
    request = urllib.request.Request(URL + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def balance():
    return api("GET", "/v1/me/balance", RESIDENT)["points"]


with sync_playwright() as playwright:
    browser = launch(playwright)
    page = browser.new_page(locale="en-US")
    errors = []
    # Script errors only: a refused request (the 422 above) is logged by the browser too, rightly.
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Everything the page is sent by the API, to show none of it names the resident.
    seen = []
    page.on("response", lambda response: seen.append(response) if "/v1/" in response.url else None)
    page.goto(URL + "/merchant?lang=en")
    check(page.title() == "Ayumi points for shops", "the page opens in English")

    page.fill("#token", MERCHANT)
    page.keyboard.press("Enter")
    expect(page.locator("#till")).to_be_visible()
    check(page.locator("#merchant").inner_text().startswith("Shop: "), "signed in with the merchant token")

    # A keyboard-wedge scanner types the code and Enter; the cashier types the points and Enter.
    code = api("POST", "/v1/me/redemption-codes", RESIDENT)["code"]
    page.click("#code")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    check(page.evaluate("document.activeElement.id") == "points", "Enter after the scan moves on to the points")
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    expect(page.locator("#confirm-text")).to_have_text("Take 3 points (worth 3 yen)?")
    check(balance() == 5, "nothing is taken before the cashier confirms")
    check(page.evaluate("document.activeElement.id") == "confirm-button", "the confirm button waits for a second Enter")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("Took 3 points")
    check(balance() == 2, "the resident's balance went from 5 to 2")
    check(seen and all("r-page" not in response.text() for response in seen), "nothing the page was sent names the resident")

    # Refund 1 of the 3 from today's list.
    row = page.locator("#today tbody tr").first
    row.locator("input.refund-points").fill("1")
    row.locator("button.refund").click()
    expect(row.locator("button.refund")).to_have_text("Refund 1 points")
    check(balance() == 2, "the first click only asks")
    row.locator("button.refund").click()
    expect(page.locator("#status")).to_contain_text("Refunded 1 points")
    expect(row.locator("td").nth(3)).to_have_text("1")
    check(balance() == 3, "the refund gave 1 point back")

    # A second code, by its 12-digit number, in Japanese; asking for more than the balance is refused with the server's words.
    page.goto(URL + "/merchant?lang=ja")
    expect(page.locator("#till")).to_be_visible()
    number = api("POST", "/v1/me/redemption-codes", RESIDENT)["number"]
    page.fill("#code", number)
    page.fill("#points", "9")
    page.click("#review")
    page.click("#confirm-button")
    expect(page.locator("#status")).to_contain_text("ポイントが不足しています")
    check(balance() == 3, "a refused redemption takes nothing")
    page.fill("#points", "2")
    page.click("#review")
    page.click("#confirm-button")
    expect(page.locator("#status")).to_contain_text("2ポイントを受け取りました")
    check(balance() == 1, "the number redeems like the code")
    check(page.locator("#today tbody tr").count() == 2, "today's list holds both redemptions")
    # The printed card: scanned, then the holder types the PIN; a wrong PIN first is refused.
    page.fill("#code", "")
    page.click("#code")
    page.keyboard.type(os.environ["AYUMI_CARD_NUMBER"])
    page.keyboard.press("Enter")
    check(page.evaluate("document.activeElement.id") == "pin", "a card asks for its PIN")
    wrong = "0000" if os.environ["AYUMI_CARD_PIN"] != "0000" else "1111"
    page.keyboard.type(wrong)
    page.keyboard.press("Enter")
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("暗証番号が違います")
    page.fill("#pin", os.environ["AYUMI_CARD_PIN"])
    page.click("#review")
    page.click("#confirm-button")
    expect(page.locator("#status")).to_contain_text("1ポイントを受け取りました")
    check(balance() == 0, "the card and its PIN redeem the last point")
    check(not errors, "no script errors: " + "; ".join(errors))
    browser.close()

finish("merchant page")
