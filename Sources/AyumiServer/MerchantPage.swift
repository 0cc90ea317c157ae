import AyumiCore
import AyumiServices
import Foundation
import Hummingbird

/// The page a shop redeems with: `GET /merchant`. One HTML document, its style and script inline,
/// nothing loaded from elsewhere, no build step; Japanese or English (`?lang=`, else
/// `Accept-Language`). The shop signs in with its merchant token (kept in the tab's session storage
/// only), scans a code with a USB keyboard-wedge scanner (it types the code and Enter) or types the
/// 12-digit number, enters the points, reviews and confirms; it lists today's redemptions, each with
/// a refund. It shows nothing of who the resident is: the API it calls answers nothing of that.
struct MerchantPage {
    let redemptions: Redemptions
    let auth: Authenticator

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("merchant", use: page)                                           // GET /merchant
        router.group("v1/merchant").get("redemptions", use: todaysRedemptions)     // GET /v1/merchant/redemptions
    }

    @Sendable func page(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let language = Page.language(request)
        return Page.response(Self.html(language), language: language, policy: Self.policy)
    }

    /// Today's redemptions of the till (merchant token), for its page and its own books.
    @Sendable func todaysRedemptions(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let merchantID = try await auth.principal(request, roles: [.merchant]).subject!
        let list = try await redemptions.today(merchantID: merchantID)
        struct Entry: Encodable { var id: String; var points: Int64; var refunded: Int64; var refundable: Int64; var at: String }
        struct Answer: Encodable { var merchant: String; var redemptions: [Entry] }
        return try HTTP.json(Answer(merchant: merchantID, redemptions: list.map {
            Entry(id: String($0.id), points: $0.points, refunded: $0.refunded, refundable: $0.points - $0.refunded, at: HTTP.iso8601($0.createdAt))
        }))
    }

    static let policy = Page.policy(script: script, styles: [style])

    static func html(_ language: Language) -> String {
        Page.document(language, title: LocalizedText(ja: "あゆみポイント 加盟店", en: "Ayumi points for shops"), style: style, script: script, body: """
            <section id="till" hidden>
              <p id="merchant"></p>
              <label for="code" id="code-label"></label>
              <input id="code" autocomplete="off" autocapitalize="characters" spellcheck="false">
              <div id="pin-box" hidden><label for="pin" id="pin-label"></label>
              <input id="pin" type="password" inputmode="numeric" maxlength="4" autocomplete="off"></div>
              <label for="points" id="points-label"></label>
              <input id="points" type="number" min="1" step="1" inputmode="numeric">
              <button id="review" type="button"></button>
              <div id="confirm" hidden>
                <p id="confirm-text"></p>
                <button id="confirm-button" type="button"></button>
                <button id="cancel-button" type="button"></button>
              </div>
              <h2 id="today-title"></h2>
              <table id="today"><thead><tr><th id="th-id"></th><th id="th-at"></th><th id="th-points"></th><th id="th-refunded"></th><th></th></tr></thead>
              <tbody></tbody></table>
              <button id="signout" type="button"></button>
            </section>
            <p id="status" role="status" aria-live="polite"></p>
            """)
    }

    static let style = """
        body { font-family: sans-serif; margin: 1em auto; max-width: 40em; padding: 0 1em; }
        header { display: flex; justify-content: space-between; align-items: baseline; }
        label { display: block; margin-top: 0.8em; font-weight: bold; }
        input { font-size: 1.3em; width: 100%; box-sizing: border-box; padding: 0.3em; }
        button { font-size: 1.1em; margin: 0.8em 0.4em 0 0; padding: 0.4em 1em; }
        #confirm { border: 2px solid #064; padding: 0.5em 1em; margin-top: 1em; }
        #status { font-size: 1.2em; min-height: 1.5em; }
        #status.error { color: #a00; }
        table { border-collapse: collapse; width: 100%; margin-top: 0.5em; }
        th, td { border-bottom: 1px solid #ccc; padding: 0.3em; text-align: right; }
        td input { width: 5em; font-size: 1em; }
        """

    static let script = """
        "use strict";
        const lang = document.body.dataset.lang;
        const words = {
          ja: { title: "あゆみポイント 加盟店", token: "加盟店トークン", signin: "ログイン", signout: "ログアウト",
                code: "コード（スキャン、または12桁の番号）", points: "ポイント", pin: "暗証番号（カードの方がご本人で入力）", review: "確認へ", confirm: "受け取る", cancel: "戻る",
                about: (p) => `${p}ポイント（${p}円分）を受け取りますか？`, took: (p, id) => `${p}ポイントを受け取りました（取引 ${id}）`,
                refund: "返金", sure: (p) => `${p}ポイント返金する`, refunded: (p, id) => `取引 ${id} に ${p}ポイントを返金しました`, today: "本日の取引", id: "取引",
                at: "時刻", pointsCol: "ポイント", refundedCol: "返金済み", merchant: (m) => `加盟店: ${m}`,
                needCode: "コードを読み取るか、番号を入力してください", needPoints: "1以上のポイントを入力してください",
                badToken: "トークンが正しくありません", network: "通信できませんでした。もう一度お試しください" },
          en: { title: "Ayumi points for shops", token: "Merchant token", signin: "Sign in", signout: "Sign out",
                code: "Code (scan it, or type the 12-digit number)", points: "Points", pin: "PIN (the card holder types it)", review: "Review", confirm: "Take the points", cancel: "Back",
                about: (p) => `Take ${p} points (worth ${p} yen)?`, took: (p, id) => `Took ${p} points (redemption ${id})`,
                refund: "Refund", sure: (p) => `Refund ${p} points`, refunded: (p, id) => `Refunded ${p} points of redemption ${id}`, today: "Today's redemptions", id: "Redemption",
                at: "Time", pointsCol: "Points", refundedCol: "Refunded", merchant: (m) => `Shop: ${m}`,
                needCode: "Scan the code or type its number", needPoints: "Enter at least 1 point",
                badToken: "The token is not valid", network: "Could not reach the server; please try again" } }[lang];
        const $ = (id) => document.getElementById(id);
        const text = (id, value) => { $(id).textContent = value; };
        text("title", words.title); text("token-label", words.token); text("signin-button", words.signin); text("signout", words.signout);
        text("code-label", words.code); text("points-label", words.points); text("review", words.review); text("pin-label", words.pin);
        text("confirm-button", words.confirm); text("cancel-button", words.cancel); text("today-title", words.today);
        text("th-id", words.id); text("th-at", words.at); text("th-points", words.pointsCol); text("th-refunded", words.refundedCol);
        let pending = null;
        function status(message, error) { $("status").textContent = message; $("status").className = error ? "error" : ""; }
        function key() { return "till-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10); }
        async function call(method, path, body) {
          const headers = { "Authorization": "Bearer " + sessionStorage.getItem("ayumi-merchant-token"), "Accept-Language": lang };
          if (body) headers["Content-Type"] = "application/json";
          let response;
          try { response = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined }); }
          catch (e) { throw new Error(words.network); }
          const answer = await response.json().catch(() => ({}));
          if (!response.ok) { const error = new Error(answer.title ? `${answer.title}: ${answer.detail || ""}` : words.network); error.status = response.status; throw error; }
          return answer;
        }
        async function refresh() {
          const answer = await call("GET", "/v1/merchant/redemptions");
          text("merchant", words.merchant(answer.merchant));
          const body = $("today").querySelector("tbody");
          body.replaceChildren();
          for (const entry of answer.redemptions) {
            const row = document.createElement("tr");
            row.dataset.id = entry.id;
            for (const value of [entry.id, new Date(entry.at).toLocaleTimeString(lang), entry.points, entry.refunded]) {
              const cell = document.createElement("td"); cell.textContent = String(value); row.appendChild(cell);
            }
            const cell = document.createElement("td");
            if (entry.refundable > 0) {
              const amount = document.createElement("input");
              amount.type = "number"; amount.min = "1"; amount.max = String(entry.refundable); amount.value = String(entry.refundable);
              amount.className = "refund-points";
              const button = document.createElement("button");
              button.type = "button"; button.textContent = words.refund; button.className = "refund";
              // Two clicks: the first asks, the second refunds under one idempotency key, kept for a
              // retry after a lost answer (a double click or a retry never refunds twice).
              amount.addEventListener("input", () => { delete button.dataset.key; button.textContent = words.refund; });
              button.addEventListener("click", async () => {
                if (!button.dataset.key) { button.dataset.key = key(); button.textContent = words.sure(Number(amount.value)); return; }
                try {
                  const answer = await call("POST", `/v1/redemptions/${entry.id}/refund`, { points: Number(amount.value), idempotencyKey: button.dataset.key });
                  status(words.refunded(answer.points, entry.id));
                  await refresh();
                } catch (e) { status(e.message, true); }
              });
              cell.append(amount, button);
            }
            row.appendChild(cell);
            body.appendChild(row);
          }
        }
        async function signIn() {
          try { await refresh(); $("signin").hidden = true; $("till").hidden = false; $("code").focus(); status(""); }
          catch (e) { sessionStorage.removeItem("ayumi-merchant-token"); $("signin").hidden = false; $("till").hidden = true;
                      status(e.status === 401 ? words.badToken : e.message, true); }
        }
        $("signin-button").addEventListener("click", () => { sessionStorage.setItem("ayumi-merchant-token", $("token").value.trim()); $("token").value = ""; signIn(); });
        $("token").addEventListener("keydown", (event) => { if (event.key === "Enter") $("signin-button").click(); });
        $("signout").addEventListener("click", () => { sessionStorage.removeItem("ayumi-merchant-token"); location.reload(); });
        // A resident's printed card is 16 digits: its holder types a PIN.
        const isCard = () => /^[0-9]{16}$/.test($("code").value.trim());
        $("code").addEventListener("input", () => { $("pin-box").hidden = !isCard(); });
        // A keyboard-wedge scanner types the code and presses Enter: go on to the PIN (a card) or the points.
        $("code").addEventListener("keydown", (event) => {
          if (event.key === "Enter") { event.preventDefault(); $("pin-box").hidden = !isCard(); (isCard() ? $("pin") : $("points")).focus(); }
        });
        $("pin").addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); $("points").focus(); } });
        // Enter reviews; the same keystroke must not also press the confirm button that takes focus.
        $("points").addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); $("review").click(); } });
        $("review").addEventListener("click", () => {
          const code = $("code").value.trim(), points = Number($("points").value);
          if (!code) return status(words.needCode, true);
          if (!Number.isInteger(points) || points < 1) return status(words.needPoints, true);
          // One idempotency key per reviewed request: a retry after a lost answer is answered, not charged twice.
          pending = { code, points, idempotencyKey: key() };
          if (isCard()) pending.pin = $("pin").value;
          text("confirm-text", words.about(points));
          $("confirm").hidden = false; $("confirm-button").focus(); status("");
        });
        $("cancel-button").addEventListener("click", () => { pending = null; $("confirm").hidden = true; $("code").focus(); });
        $("confirm-button").addEventListener("click", async () => {
          if (!pending) return;
          try {
            const answer = await call("POST", "/v1/redemptions", pending);
            pending = null; $("confirm").hidden = true; $("code").value = ""; $("points").value = ""; $("pin").value = ""; $("pin-box").hidden = true;
            status(words.took(answer.points, answer.id));
            await refresh();
            $("code").focus();
          } catch (e) { status(e.message, true); }
        });
        if (sessionStorage.getItem("ayumi-merchant-token")) signIn();
        """
}
