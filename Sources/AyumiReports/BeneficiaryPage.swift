import AyumiCore

extension BeneficiaryReport {
    /// A printable page, no script: the ledger summary, and when the program measures benefits, the
    /// residents' table, each party's figures, three charts (steps against the baseline, points by
    /// sponsor, benefit and cost by party), the costs, the proposed sharing and the assumptions.
    /// Suppressed figures read X.
    public func html(language: Language) -> String {
        func text(_ ja: String, _ en: String) -> String { language == .ja ? ja : en }
        func cell(_ cell: Workbook.Cell) -> String {
            switch cell {
            case .text(let value): "<td>\(Markup.escape(value))</td>"
            case .number(let value): "<td class=\"n\">\(Self.grouped(value))</td>"
            case .decimal(let value, let decimals): "<td class=\"n\">\(Workbook.decimal(value, decimals))</td>"
            case .empty: "<td></td>"
            }
        }
        func table(_ header: [LocalizedText], _ rows: [[Workbook.Cell]]) -> String {
            "<table><thead><tr>" + header.map { "<th>\(Markup.escape($0.text(language)))</th>" }.joined() + "</tr></thead><tbody>\n"
                + rows.map { "<tr>" + $0.map(cell).joined() + "</tr>\n" }.joined() + "</tbody></table>\n"
        }
        func figures(_ figures: Figures?) -> [Workbook.Cell] {
            guard let figures else { return [.empty, .empty, .empty] }
            return [figures.points, figures.yen, figures.residents].map { $0.map(Workbook.Cell.number) ?? .text(Self.suppressedCell) }
        }
        var body = "<h2>\(text("ポイントの流れ（負担者・付与ルール・加盟店）", "Points by sponsor, rule and merchant"))</h2>\n"
        body += table(Self.headers, rows.map { row in
            [.text(Self.kindName(row.kind).text(language)), .text(row.id), .text(row.name.text(language))]
                + figures(row.awarded) + figures(row.redeemed) + figures(row.expired)
        })
        let sponsorRows = rows.filter { $0.kind == .sponsor && $0.id != Self.suppressedRowID }
        body += "<section><h3>\(text("負担者別のポイント", "Points by sponsor"))</h3>\n"
        body += Chart.bars(title: text("負担者別のポイント", "Points by sponsor"),
                           series: [.init(name: text("付与", "awarded"), color: "#2a7"), .init(name: text("利用", "redeemed"), color: "#27a"),
                                    .init(name: text("失効", "expired"), color: "#aaa")],
                           groups: sponsorRows.map { row in
                               Chart.Group(label: row.id, values: [row.awarded?.points, row.redeemed?.points, row.expired?.points])
                           }) + "\n</section>\n"
        if let benefits {
            let tables = Dictionary(uniqueKeysWithValues: benefits.tables(language).map { ($0.id, $0) })
            func section(_ id: String, chart: String = "") -> String {
                let found = tables[id]!
                return "<section><h2>\(Markup.escape(found.title.text(language)))</h2>\n\(chart)\(chart.isEmpty ? "" : "\n")"
                    + table(found.header, found.rows) + "</section>\n"
            }
            let trendLabels = benefits.trend.map { String($0.from.description.dropFirst(5)) }
            let steps = Chart.bars(title: text("歩数の推移", "Steps trend"), series: [.init(name: text("1日平均歩数", "average steps a day"), color: "#2a7")],
                                   groups: zip(trendLabels, benefits.trend).map {
                                       Chart.Group(label: $0.0, values: [$0.1.averageSteps], absent: [$0.1.suppressed ? "X" : BenefitReport.notComputed])
                                   },
                                   line: benefits.baselineSteps.map { Chart.Line(value: $0, label: "\(text("基準期間", "baseline")) \(Self.grouped($0))") })
            let parties = Chart.bars(title: text("主体別の便益と費用", "Benefit and cost by party"),
                                     series: [.init(name: text("便益", "benefit"), color: "#2a7"), .init(name: text("実負担", "paid"), color: "#c73"),
                                              .init(name: text("提案負担", "proposed"), color: "#27a")],
                                     groups: benefits.sharing.map {
                                         Chart.Group(label: $0.party.name.text(language), values: [$0.benefitYen, $0.paidYen, $0.proposedYen],
                                                     absent: ["X", "X", $0.proposalSuppressed ? "X" : BenefitReport.notComputed])
                                     },
                                     format: Self.grouped)
            body += section("residents") + section("benefits") + section("steps-trend", chart: steps) + section("sponsor-costs")
                + section("operating-costs") + section("cost-sharing", chart: parties) + section("assumptions")
        }
        let title = text("受益者レポート", "Beneficiary report") + " \(from)–\(to)"
        return """
            <!DOCTYPE html>
            <html lang="\(language.rawValue)"><head><meta charset="utf-8"><title>\(Markup.escape(title))</title>
            <style>\(Self.pageStyle)</style>
            </head><body>
            <h1>\(Markup.escape(title))</h1>
            <p>\(text("ルールセット", "Ruleset")) \(rulesetVersion). \(text("\(groupSizeMin)人未満から計算される値と、それを他の値から逆算できる値は X（秘匿）です。各値の単位と算出方法は表に、係数と出典は「前提と出典」にあります。", "A figure drawn from fewer than \(groupSizeMin) residents, and any figure that would give one back, reads X (suppressed). Each figure states its unit and how it was computed; the coefficients and their sources are under Assumptions."))</p>
            \(body)</body></html>

            """
    }

    /// The page's one style element (a page that shows this one's content may allow it by its hash).
    public static let pageStyle = """
        body { font-family: sans-serif; margin: 2em; } section { break-inside: avoid; margin-bottom: 1.5em; }
        table { border-collapse: collapse; margin-bottom: 1em; } th, td { border: 1px solid #999; padding: 2px 6px; font-size: 12px; }
        td.n { text-align: right; } th { background: #eee; }
        """

    /// 1234567 → "1,234,567".
    static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result += "," }
            result.append(character)
        }
        return (value < 0 ? "-" : "") + result
    }
}
