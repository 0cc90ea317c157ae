import AyumiCore
import Foundation

/// The monthly indicators the city explains to citizens: output indicators (enrolled residents,
/// active rate, points awarded, redemptions) and outcome indicators (average daily steps, the share
/// of walkers reaching 8,000 steps, transit rides per participant, downtown visits), each month
/// beside the target the city set in `Rules/kpis.yaml`. A figure drawn from fewer residents than the
/// program's `reportGroupSizeMin` reads X, and so does a rate whose complement is (the residents
/// not active, the walkers not reaching 8,000 steps): either side would name who did what.
public struct KPIReport: Sendable {
    public struct Row: Sendable, Hashable {
        public var kpi: KPI
        public var target: KPITarget?
        /// Per month, in order; nil when suppressed. Scaled as `kpi.scale` says.
        public var values: [Int64?]
    }

    public var months: [String]
    public var groupSizeMin: Int
    public var rows: [Row]

    /// - Parameter facts: per month, in order, its label (`YYYY-MM`) and its counts.
    public static func make(facts: [(month: String, facts: IndicatorFacts)], targets: [KPITarget], groupSizeMin: Int) -> KPIReport {
        let k = Int64(groupSizeMin)
        /// `numerator / denominator` scaled by `scale`, rounded half up, in integers.
        func ratio(_ numerator: Int64, _ denominator: Int64, _ scale: Int64) -> Int64? {
            denominator > 0 ? (2 * numerator * scale + denominator) / (2 * denominator) : nil
        }
        /// Shown when every group of residents it is drawn from has at least k.
        func shown(_ value: Int64?, _ groups: Int64...) -> Int64? { groups.allSatisfy { $0 >= k } ? value : nil }
        let rows = KPI.allCases.map { kpi in
            Row(kpi: kpi, target: targets.first { $0.kpi == kpi }, values: facts.map { _, f in
                switch kpi {
                case .enrolled: shown(f.enrolled, f.enrolled)
                case .activeRate: shown(ratio(f.active * 100, f.enrolled, kpi.scale), f.active, f.enrolled - f.active)
                case .pointsAwarded: shown(f.pointsAwarded, f.awardedResidents)
                case .redemptions: shown(f.redemptions, f.redeemers)
                case .averageDailySteps: shown(ratio(f.steps, f.walkDays, 1), f.walkers)
                case .reaching8000: shown(ratio(f.walkersReaching8000 * 100, f.walkers, kpi.scale), f.walkersReaching8000,
                                          f.walkers - f.walkersReaching8000)
                // Rides (published beside it in the beneficiary report) ÷ this gives the active count: it
                // needs what the active rate needs, the residents not active too.
                case .ridesPerParticipant: shown(ratio(f.rides, f.active, kpi.scale), f.riders, f.active, f.enrolled - f.active)
                case .downtownVisits: shown(f.visits, f.visitors)
                }
            })
        }
        return KPIReport(months: facts.map(\.month), groupSizeMin: groupSizeMin, rows: rows)
    }

    static func decimals(_ kpi: KPI) -> Int { kpi.scale == 1 ? 0 : (kpi.scale == 10 ? 1 : 2) }

    static let headers: [LocalizedText] = [
        LocalizedText(ja: "指標", en: "indicator"), LocalizedText(ja: "名称", en: "name"), LocalizedText(ja: "種類", en: "kind"),
        LocalizedText(ja: "目標値", en: "target"), LocalizedText(ja: "目標年", en: "target_year"),
    ]

    static func kind(_ kpi: KPI) -> LocalizedText {
        kpi.isOutcome ? LocalizedText(ja: "成果指標", en: "outcome") : LocalizedText(ja: "活動指標", en: "output")
    }

    /// One row per indicator, a column per month: UTF-8 with a byte order mark, RFC 4180, CRLF.
    public func csv(_ language: Language) -> String {
        CSVDocument.text([Self.headers.map { $0.text(language) } + months] + rows.map { row in
            let decimals = Self.decimals(row.kpi)
            return [row.kpi.rawValue, row.kpi.name.text(language), Self.kind(row.kpi).text(language),
                    row.target.map { Workbook.decimal($0.value, decimals) } ?? "", row.target.map { String($0.year) } ?? ""]
                + row.values.map { $0.map { Workbook.decimal($0, decimals) } ?? BeneficiaryReport.suppressedCell }
        })
    }

    public func json() -> Data {
        struct Output: Encodable {
            struct Indicator: Encodable {
                var id: String, name: LocalizedText, kind: String, decimals: Int, target: String?, targetYear: Int?
                var values: [String: String?]
            }
            var months: [String], groupSizeMin: Int, indicators: [Indicator]
        }
        let value = Output(months: months, groupSizeMin: groupSizeMin, indicators: rows.map { row in
            let decimals = Self.decimals(row.kpi)
            return .init(id: row.kpi.rawValue, name: row.kpi.name, kind: row.kpi.isOutcome ? "outcome" : "output", decimals: decimals,
                         target: row.target.map { Workbook.decimal($0.value, decimals) }, targetYear: row.target?.year,
                         values: Dictionary(uniqueKeysWithValues: zip(months, row.values.map { $0.map { Workbook.decimal($0, decimals) } })))
        })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try! encoder.encode(value) + Data("\n".utf8)
    }

    /// A printable page, no script: per indicator its monthly values as labelled bars and the target
    /// as a dashed line; a suppressed month reads X and draws no bar.
    public func html(_ language: Language) -> String {
        func text(_ ja: String, _ en: String) -> String { language == .ja ? ja : en }
        var body = ""
        for row in rows {
            let decimals = Self.decimals(row.kpi)
            let chart = Chart.bars(title: row.kpi.name.text(language), series: [Chart.Series(name: row.kpi.name.text(language), color: "#2a7")],
                                   groups: zip(months, row.values).map { Chart.Group(label: $0.0, values: [$0.1]) },
                                   line: row.target.map { Chart.Line(value: $0.value, label: "\(text("目標", "target")) \(Workbook.decimal($0.value, decimals)) (\($0.year))") },
                                   format: { Workbook.decimal($0, decimals) })
            body += "<section><h2>\(Markup.escape(row.kpi.name.text(language))) <small>\(Markup.escape(Self.kind(row.kpi).text(language)))</small></h2>\n\(chart)\n</section>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="\(language.rawValue)"><head><meta charset="utf-8"><title>\(text("成果指標・活動指標", "Indicators")) \(months.first ?? "")–\(months.last ?? "")</title>
            <style>\(Self.pageStyle)</style>
            </head><body>
            <h1>\(text("成果指標・活動指標", "Outcome and output indicators")) \(months.first ?? "")–\(months.last ?? "")</h1>
            <p>\(text("棒は各月の値、赤い破線は目標値です。\(groupSizeMin)人未満から計算される値は X（秘匿）です。",
                      "Bars are the months' values, the dashed red line the target. A value drawn from fewer than \(groupSizeMin) residents reads X (suppressed)."))</p>
            \(body)</body></html>

            """
    }

    /// The page's one style element (a page that shows this one's content may allow it by its hash).
    public static let pageStyle = "body { font-family: sans-serif; margin: 2em; } section { break-inside: avoid; margin-bottom: 1.5em; } small { color: #555; }"

    public func xlsx(_ language: Language) throws -> Data {
        let header = Self.headers.map { "\($0.ja) / \($0.en)" } + months
        let rows = rows.map { row -> [Workbook.Cell] in
            let decimals = Self.decimals(row.kpi)
            return [.text(row.kpi.rawValue), .text(row.kpi.name.text(language)), .text(Self.kind(row.kpi).text(language)),
                    row.target.map { .decimal($0.value, decimals: decimals) } ?? .empty, row.target.map { .number(Int64($0.year)) } ?? .empty]
                + row.values.map { $0.map { .decimal($0, decimals: decimals) } ?? .text(BeneficiaryReport.suppressedCell) }
        }
        return try Workbook(sheets: [Workbook.Sheet(name: "KPI", header: header, rows: rows)]).xlsx()
    }
}
