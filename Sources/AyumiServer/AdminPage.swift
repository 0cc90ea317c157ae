import AyumiCore
import AyumiReports
import Hummingbird

/// The city staff's dashboard: `GET /admin`. One HTML document, its style and script inline, nothing
/// loaded from elsewhere; Japanese or English (`?lang=`, else `Accept-Language`). The official signs
/// in with an admin token (kept in the tab's session storage only), picks the months of the
/// indicators or the days of the beneficiary report, and reads them on the page (the printable
/// pages the report API answers, drawn into this one without running anything in them) or
/// downloads them as CSV or XLSX. Everything it shows comes from the documented report API.
struct AdminPage {
    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("admin", use: page)   // GET /admin
    }

    @Sendable func page(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let language = Page.language(request)
        return Page.response(Self.html(language), language: language, policy: Self.policy)
    }

    /// The report pages' own style elements are allowed by their hashes: the browser checks them
    /// while it parses a page to copy its content in (their rules never apply here).
    static let policy = Page.policy(script: script, styles: [style, KPIReport.pageStyle, BeneficiaryReport.pageStyle])

    static func html(_ language: Language) -> String {
        Page.document(language, title: LocalizedText(ja: "あゆみポイント 管理画面", en: "Ayumi points for the city"), style: style, script: script, body: """
            <section id="desk" hidden>
              <p id="version"></p>
              <fieldset><legend id="kpi-legend"></legend>
                <label for="kpi-from" id="kpi-from-label"></label><input id="kpi-from" type="month">
                <label for="kpi-to" id="kpi-to-label"></label><input id="kpi-to" type="month">
                <div><button id="show-kpis" type="button"></button><button id="kpis-csv" type="button" class="download">CSV</button><button id="kpis-xlsx" type="button" class="download">XLSX</button></div>
              </fieldset>
              <fieldset><legend id="report-legend"></legend>
                <label for="from" id="from-label"></label><input id="from" type="date">
                <label for="to" id="to-label"></label><input id="to" type="date">
                <div><button id="show-beneficiaries" type="button"></button><button id="beneficiaries-csv" type="button" class="download">CSV</button><button id="beneficiaries-xlsx" type="button" class="download">XLSX</button></div>
              </fieldset>
              <button id="signout" type="button"></button>
            </section>
            <p id="status" role="status" aria-live="polite"></p>
            <div id="report"></div>
            """)
    }

    static let style = """
        body { font-family: sans-serif; margin: 1em auto; max-width: 70em; padding: 0 1em; }
        header { display: flex; justify-content: space-between; align-items: baseline; }
        fieldset { display: inline-block; vertical-align: top; margin: 0.5em 0.5em 0.5em 0; }
        label { display: block; margin-top: 0.4em; font-weight: bold; }
        input { font-size: 1.1em; padding: 0.2em; }
        button { font-size: 1em; margin: 0.6em 0.4em 0 0; padding: 0.3em 0.8em; }
        #status { min-height: 1.5em; }
        #status.error { color: #a00; }
        #report table { border-collapse: collapse; margin-bottom: 1em; }
        #report th, #report td { border: 1px solid #999; padding: 2px 6px; font-size: 12px; }
        #report td.n { text-align: right; }
        #report th { background: #eee; }
        #report section { margin-bottom: 1.5em; }
        """

    static let script = """
        "use strict";
        const lang = document.body.dataset.lang;
        const words = {
          ja: { title: "あゆみポイント 管理画面", token: "管理者トークン", signin: "ログイン", signout: "ログアウト",
                version: (v) => `適用中のルールセット: ${v}`, kpis: "成果指標・活動指標（月別）", fromMonth: "開始月", toMonth: "終了月",
                showKpis: "指標を表示", report: "受益者レポート（期間）", from: "開始日", to: "終了日", showReport: "レポートを表示",
                loading: "読み込み中…", shown: "表示しました", saved: (name) => `${name} を保存しました`,
                badToken: "トークンが正しくありません", network: "通信できませんでした。もう一度お試しください" },
          en: { title: "Ayumi points for the city", token: "Admin token", signin: "Sign in", signout: "Sign out",
                version: (v) => `Ruleset in force: ${v}`, kpis: "Indicators by month", fromMonth: "First month", toMonth: "Last month",
                showKpis: "Show the indicators", report: "Beneficiary report", from: "First day", to: "Last day", showReport: "Show the report",
                loading: "Loading…", shown: "Shown", saved: (name) => `Saved ${name}`,
                badToken: "The token is not valid", network: "Could not reach the server; please try again" } }[lang];
        const $ = (id) => document.getElementById(id);
        const text = (id, value) => { $(id).textContent = value; };
        text("title", words.title); text("token-label", words.token); text("signin-button", words.signin); text("signout", words.signout);
        text("kpi-legend", words.kpis); text("kpi-from-label", words.fromMonth); text("kpi-to-label", words.toMonth); text("show-kpis", words.showKpis);
        text("report-legend", words.report); text("from-label", words.from); text("to-label", words.to); text("show-beneficiaries", words.showReport);
        function status(message, error) { $("status").textContent = message; $("status").className = error ? "error" : ""; }
        // Defaults: this month so far, and the indicators of the last six months.
        const pad = (n) => String(n).padStart(2, "0");
        const now = new Date();
        const month = (offset) => { const d = new Date(now.getFullYear(), now.getMonth() + offset, 1); return `${d.getFullYear()}-${pad(d.getMonth() + 1)}`; };
        $("kpi-from").value = month(-5); $("kpi-to").value = month(0);
        $("from").value = `${month(0)}-01`; $("to").value = `${month(0)}-${pad(now.getDate())}`;
        async function call(path) {
          const headers = { "Authorization": "Bearer " + sessionStorage.getItem("ayumi-admin-token"), "Accept-Language": lang };
          let response;
          try { response = await fetch(path, { headers }); } catch (e) { throw new Error(words.network); }
          if (!response.ok) {
            const problem = await response.json().catch(() => ({}));
            const error = new Error(problem.title ? `${problem.title}: ${problem.detail || ""}` : words.network);
            error.status = response.status;
            throw error;
          }
          return response;
        }
        const kpiPath = (format) => `/v1/reports/kpis?from=${encodeURIComponent($("kpi-from").value)}&to=${encodeURIComponent($("kpi-to").value)}&format=${format}`;
        const reportPath = (format) => `/v1/admin/reports/beneficiaries?from=${encodeURIComponent($("from").value)}&to=${encodeURIComponent($("to").value)}&format=${format}`;
        // The report's page is parsed, not run: its tables and charts are copied into this page.
        async function show(path) {
          status(words.loading);
          try {
            const page = new DOMParser().parseFromString(await (await call(path)).text(), "text/html");
            $("report").replaceChildren(...Array.from(page.body.childNodes, (node) => document.importNode(node, true)));
            status(words.shown);
          } catch (e) { status(e.message, true); }
        }
        async function download(path, name) {
          status(words.loading);
          try {
            const blob = await (await call(path)).blob();
            const link = document.createElement("a");
            link.href = URL.createObjectURL(blob); link.download = name;
            document.body.appendChild(link); link.click(); link.remove();
            setTimeout(() => URL.revokeObjectURL(link.href), 10000);
            status(words.saved(name));
          } catch (e) { status(e.message, true); }
        }
        $("show-kpis").addEventListener("click", () => show(kpiPath("html")));
        for (const format of ["csv", "xlsx"]) {
          $(`kpis-${format}`).addEventListener("click", () => download(kpiPath(format), `ayumi-kpis-${$("kpi-from").value}-${$("kpi-to").value}.${format}`));
        }
        $("show-beneficiaries").addEventListener("click", () => show(reportPath("html")));
        for (const format of ["csv", "xlsx"]) {
          $(`beneficiaries-${format}`).addEventListener("click", () =>
            download(reportPath(format), `ayumi-beneficiaries-${$("from").value}-${$("to").value}.${format}`));
        }
        async function signIn() {
          try {
            const rules = await (await call("/v1/admin/rules")).json();
            text("version", words.version(rules.inForce));
            $("signin").hidden = true; $("desk").hidden = false; status("");
          } catch (e) {
            sessionStorage.removeItem("ayumi-admin-token"); $("signin").hidden = false; $("desk").hidden = true;
            status(e.status === 401 || e.status === 403 ? words.badToken : e.message, true);
          }
        }
        $("signin-button").addEventListener("click", () => { sessionStorage.setItem("ayumi-admin-token", $("token").value.trim()); $("token").value = ""; signIn(); });
        $("token").addEventListener("keydown", (event) => { if (event.key === "Enter") $("signin-button").click(); });
        $("signout").addEventListener("click", () => { sessionStorage.removeItem("ayumi-admin-token"); location.reload(); });
        if (sessionStorage.getItem("ayumi-admin-token")) signIn();
        """
}
