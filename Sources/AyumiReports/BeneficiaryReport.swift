import AyumiCore
import Foundation

/// Who gained what in a period: points (and their yen value) funded by each sponsor, earned under
/// each rule and redeemed at each merchant, with the residents behind each figure. A first version
/// of the guidebook's "clarify beneficiaries" table; benefit coefficients join it in a later issue.
///
/// Reproducible: the same ledger and period give byte-identical output (fixed row order, no
/// generation timestamp).
///
/// Private: a figure drawn from fewer than `groupSizeMin` residents is suppressed, its points and
/// yen as well as its count, and every section still adds up to the program total: the suppressed
/// figures of a section are shown only as their sum, in a row of their own (`*`). When that sum
/// would single out one figure (one suppressed row, or fewer than `groupSizeMin` residents behind
/// the sum), the smallest shown figure of the section is suppressed with it; every suppressed
/// figure hides its count too. Rules and sponsors are linked (a sponsor's figure is the sum of its
/// shares of the rules it funds), so a hidden rule hides its sponsors and a hidden sponsor its
/// rules, until nothing changes. So no figure of one report is determined by the others of that
/// report; comparing reports of overlapping periods is not guarded against (see README). Rows are what the ledger holds for the
/// period, including rules and sponsors that have since left the program.
public struct BeneficiaryReport: Sendable, Hashable {
    public typealias Measure = BeneficiaryFacts.Measure
    public typealias Section = BeneficiaryFacts.Section

    /// One measure of one row. nil fields are suppressed.
    public struct Figures: Sendable, Hashable {
        public var points: Int64?
        public var yen: Int64?
        /// nil when the figure is suppressed (always so when fewer than `groupSizeMin` residents, and
        /// more than none, are behind it).
        public var residents: Int64?

        public init(points: Int64?, yen: Int64?, residents: Int64?) {
            self.points = points
            self.yen = yen
            self.residents = residents
        }
    }

    public enum ReportError: Error, Sendable, Equatable {
        /// A yen figure does not fit in 64 bits; the rules' bounds keep a real city far from this.
        case overflow
    }

    public struct Row: Sendable, Hashable {
        public enum Kind: String, Sendable { case program, sponsor, rule, merchant }
        public var kind: Kind
        public var id: String
        public var name: LocalizedText
        /// nil where the measure does not apply (merchants award nothing and expire nothing).
        public var awarded: Figures?
        public var redeemed: Figures?
        /// Points that expired unspent in the period, back to the sponsor that funded them.
        public var expired: Figures?

        public func figures(_ measure: Measure) -> Figures? {
            switch measure {
            case .awarded: awarded
            case .redeemed: redeemed
            case .expired: expired
            }
        }

        mutating func set(_ measure: Measure, _ figures: Figures) {
            switch measure {
            case .awarded: awarded = figures
            case .redeemed: redeemed = figures
            case .expired: expired = figures
            }
        }
    }

    /// Id of the row holding a section's suppressed figures combined; never a valid identifier.
    public static let suppressedRowID = "*"

    public var from: LocalDate
    public var to: LocalDate
    public var rulesetVersion: String
    public var groupSizeMin: Int
    public var rows: [Row]
    /// Who gained what and who paid: present when the program has `Rules/benefits.yaml`.
    public var benefits: BenefitReport?

    /// - Parameters:
    ///   - listed: the rows each section always shows (the program's sponsors and rules, the active
    ///     merchants), in order. Ids that hold figures in `facts` but are not listed follow, sorted,
    ///     named from `pastNames` (or by their id).
    ///   - residentCount: distinct residents behind a set of rows of one measure and section (the
    ///     store counts them; counts of rows overlap and cannot be summed).
    public static func make(facts: BeneficiaryFacts, listed: [Section: [(id: String, name: LocalizedText)]],
                            pastNames: [Section: [String: LocalizedText]], programName: LocalizedText,
                            rulesetVersion: String, yenPerPoint: Int64, groupSizeMin: Int, from: LocalDate, to: LocalDate,
                            residentCount: (Measure, Section, [String]) throws -> Int64) throws -> BeneficiaryReport {
        let k = Int64(groupSizeMin)
        var totals: [Measure: Figures] = [:]
        for measure in Measure.allCases {
            let total = facts.totals[measure] ?? .zero
            totals[measure] = try figures(total, suppressed: total.residents > 0 && total.residents < k, k: k, yenPerPoint: yenPerPoint)
        }
        let suppressed = try suppressions(facts, totals: totals, k: k, residentCount: residentCount)
        var rows = [Row(kind: .program, id: "all", name: programName, awarded: totals[.awarded], redeemed: totals[.redeemed],
                        expired: totals[.expired])]
        for section in Section.allCases {
            rows += try sectionRows(section, facts: facts, listed: listed[section] ?? [], pastNames: pastNames[section] ?? [:], totals: totals,
                                    suppressed: suppressed, groupSizeMin: groupSizeMin, yenPerPoint: yenPerPoint)
        }
        return BeneficiaryReport(from: from, to: to, rulesetVersion: rulesetVersion, groupSizeMin: groupSizeMin, rows: rows)
    }

    /// A suppressed figure hides its count as well, and every hidden count reads the same: a count,
    /// or knowing which hidden figure is the small one, beside a fixed-points rule (2 points a
    /// visit) would give the points back.
    static func figures(_ cell: BeneficiaryFacts.Cell, suppressed: Bool, k: Int64, yenPerPoint: Int64) throws -> Figures {
        let (yen, overflow) = cell.points.multipliedReportingOverflow(by: yenPerPoint)
        guard !overflow else { throw ReportError.overflow }
        precondition(suppressed || cell.residents == 0 || cell.residents >= k, "small groups are always suppressed")
        return Figures(points: suppressed ? nil : cell.points, yen: suppressed ? nil : yen, residents: suppressed ? nil : cell.residents)
    }

    typealias Suppressed = [Measure: [Section: (ids: Set<String>, residents: Int64)]]

    /// Which figures of each measure and section are hidden, and the residents behind them together.
    static func suppressions(_ facts: BeneficiaryFacts, totals: [Measure: Figures], k: Int64,
                             residentCount: (Measure, Section, [String]) throws -> Int64) throws -> Suppressed {
        var suppressed: Suppressed = [:]
        for measure in Measure.allCases {
            let totalIsSmall = totals[measure]?.points == nil
            func suppress(_ section: Section, forced: Set<String>) throws -> (ids: Set<String>, residents: Int64) {
                try suppression(facts.cells[measure]?[section] ?? [:], groupSizeMin: k, totalIsSmall: totalIsSmall, forced: forced) {
                    try residentCount(measure, section, $0.sorted())
                }
            }
            if BeneficiaryFacts.applies(measure, to: .merchant) {
                suppressed[measure, default: [:]][.merchant] = try suppress(.merchant, forced: [])
            }
            // Rules and sponsors are linked (a sponsor's figure is the sum of its shares of the rules
            // it funds), so either hidden hides the other, until nothing changes: a sponsor shown beside
            // a hidden rule, or rules shown beside a hidden sponsor, would give the hidden one back.
            let links = facts.links[measure] ?? []
            var forcedRules = Set<String>(), forcedSponsors = Set<String>()
            while true {
                let rules = try suppress(.rule, forced: forcedRules)
                let sponsors = try suppress(.sponsor, forced: forcedSponsors)
                let moreSponsors = forcedSponsors.union(links.filter { rules.ids.contains($0.rule) }.map(\.sponsor))
                let moreRules = forcedRules.union(links.filter { sponsors.ids.contains($0.sponsor) }.map(\.rule))
                if moreSponsors == forcedSponsors && moreRules == forcedRules {
                    suppressed[measure, default: [:]][.rule] = rules
                    suppressed[measure, default: [:]][.sponsor] = sponsors
                    break
                }
                (forcedRules, forcedSponsors) = (moreRules, moreSponsors)
            }
        }
        return suppressed
    }

    /// One section's rows: the listed ones in order, then any others with figures, sorted; and a row
    /// holding the suppressed ones together when any is.
    static func sectionRows(_ section: Section, facts: BeneficiaryFacts, listed: [(id: String, name: LocalizedText)],
                            pastNames: [String: LocalizedText], totals: [Measure: Figures], suppressed: Suppressed, groupSizeMin: Int,
                            yenPerPoint: Int64) throws -> [Row] {
        let k = Int64(groupSizeMin)
        var known = Set<String>()
        for measure in Measure.allCases { known.formUnion(facts.cells[measure]?[section].map { Array($0.keys) } ?? []) }
        let order = listed + known.subtracting(listed.map(\.id)).sorted().map { (id: $0, name: pastNames[$0] ?? LocalizedText(ja: $0, en: $0)) }
        let kind = Row.Kind(rawValue: section.rawValue)!
        var rows = order.map { Row(kind: kind, id: $0.id, name: $0.name) }
        var remainder = Row(kind: kind, id: suppressedRowID,
                            name: LocalizedText(ja: "秘匿区分の合計（\(groupSizeMin)人未満を含む）",
                                                en: "Suppressed groups combined (under \(groupSizeMin) residents)"))
        var anySuppressed = false
        for measure in Measure.allCases where BeneficiaryFacts.applies(measure, to: section) {
            let cells = facts.cells[measure]?[section] ?? [:]
            let hidden = suppressed[measure]?[section] ?? ([], 0)
            for index in rows.indices {
                rows[index].set(measure, try figures(cells[rows[index].id] ?? .zero, suppressed: hidden.ids.contains(rows[index].id), k: k,
                                                     yenPerPoint: yenPerPoint))
            }
            let sum = hidden.ids.reduce(Int64(0)) { $0 + (cells[$1]?.points ?? 0) }
            remainder.set(measure, try figures(.init(points: sum, residents: hidden.residents), suppressed: totals[measure]?.points == nil, k: k,
                                               yenPerPoint: yenPerPoint))
            anySuppressed = anySuppressed || !hidden.ids.isEmpty
        }
        return anySuppressed ? rows + [remainder] : rows
    }

    /// The ids of one section and measure whose figures are suppressed, and the distinct residents
    /// behind them together. Primary: every figure from 1 to k−1 residents, and the `forced` ones
    /// (sponsors of suppressed rules). Complementary: while the suppressed figures are a single one,
    /// or fewer than k residents together, the smallest shown figure joins them, so their sum (the
    /// `*` row) never reveals one of them. When the whole measure comes from fewer than k residents
    /// (`totalIsSmall`) every figure is suppressed.
    static func suppression(_ cells: [String: BeneficiaryFacts.Cell], groupSizeMin k: Int64, totalIsSmall: Bool, forced: Set<String>,
                            residentCount: (Set<String>) throws -> Int64) rethrows -> (ids: Set<String>, residents: Int64) {
        let nonzero = cells.filter { $0.value.residents > 0 }
        var ids = Set(nonzero.filter { totalIsSmall || $0.value.residents < k || forced.contains($0.key) }.keys)
        guard !ids.isEmpty else { return ([], 0) }
        var residents = try residentCount(ids)
        let candidates = nonzero.filter { !ids.contains($0.key) }
            .sorted { ($0.value.residents, $0.value.points, $0.key) < ($1.value.residents, $1.value.points, $1.key) }
        for candidate in candidates where ids.count < 2 || residents < k {
            ids.insert(candidate.key)
            residents = try residentCount(ids)
        }
        return (ids, residents)
    }

    static let headers: [LocalizedText] = [
        LocalizedText(ja: "区分", en: "section"), LocalizedText(ja: "ID", en: "id"), LocalizedText(ja: "名称", en: "name"),
        LocalizedText(ja: "付与ポイント", en: "points_awarded"), LocalizedText(ja: "付与額（円）", en: "yen_awarded"),
        LocalizedText(ja: "付与対象住民数", en: "residents_awarded"),
        LocalizedText(ja: "利用ポイント", en: "points_redeemed"), LocalizedText(ja: "利用額（円）", en: "yen_redeemed"),
        LocalizedText(ja: "利用住民数", en: "residents_redeemed"),
        LocalizedText(ja: "失効ポイント", en: "points_expired"), LocalizedText(ja: "失効額（円）", en: "yen_expired"),
        LocalizedText(ja: "失効住民数", en: "residents_expired"),
    ]

    static func kindName(_ kind: Row.Kind) -> LocalizedText {
        switch kind {
        case .program: LocalizedText(ja: "事業全体", en: "program")
        case .sponsor: LocalizedText(ja: "負担者", en: "sponsor")
        case .rule: LocalizedText(ja: "付与ルール", en: "rule")
        case .merchant: LocalizedText(ja: "加盟店", en: "merchant")
        }
    }

    /// The cell text of a suppressed amount, as Japanese official statistics mark confidential cells.
    public static let suppressedCell = "X"

    /// `CSVDocument` (BOM, RFC 4180, CRLF). Every cell of a suppressed figure (points, yen, residents)
    /// reads `X`, and a measure that does not apply to the row (merchants award nothing) is empty.
    public func csv(language: Language) -> String {
        func cells(_ figures: Figures?) -> [String] {
            guard let figures else { return ["", "", ""] }
            return [figures.points.map(String.init) ?? Self.suppressedCell, figures.yen.map(String.init) ?? Self.suppressedCell,
                    figures.residents.map(String.init) ?? Self.suppressedCell]
        }
        var lines = [Self.headers.map { $0.text(language) }]
        for row in rows {
            lines.append([Self.kindName(row.kind).text(language), Self.csvText(row.id), Self.csvText(row.name.text(language))]
                         + cells(row.awarded) + cells(row.redeemed) + cells(row.expired))
        }
        // The benefit tables follow, each after an empty line, its rows named by the table's id.
        for table in benefits?.tables(language) ?? [] {
            lines.append([])
            lines.append(([LocalizedText(ja: "表", en: "table")] + table.header).map { $0.text(language) })
            lines += table.rows.map { [table.id] + $0.map(Self.csvText) }
        }
        return CSVDocument.text(lines)
    }

    /// The report as a workbook: a sheet per section (program, sponsors, rules, merchants), headers
    /// in Japanese and English, names in `language`, figures as numbers and a suppressed one as the
    /// text X. The same ledger and period give a byte-identical file.
    public func xlsx(language: Language) throws -> Data {
        func cells(_ figures: Figures?) -> [Workbook.Cell] {
            guard let figures else { return [.empty, .empty, .empty] }
            return [figures.points, figures.yen, figures.residents].map { $0.map(Workbook.Cell.number) ?? .text(Self.suppressedCell) }
        }
        let header = Self.headers.dropFirst().map { "\($0.ja) / \($0.en)" }
        let sheets = [Row.Kind.program, .sponsor, .rule, .merchant].map { kind in
            let name = Self.kindName(kind)
            return Workbook.Sheet(name: "\(name.ja) \(name.en)", header: Array(header), rows: rows.filter { $0.kind == kind }.map { row in
                [.text(row.id), .text(row.name.text(language))] + cells(row.awarded) + cells(row.redeemed) + cells(row.expired)
            })
        }
        let benefitSheets = (benefits?.tables(language) ?? []).map { table in
            Workbook.Sheet(name: table.sheetName, header: table.header.map { "\($0.ja) / \($0.en)" }, rows: table.rows)
        }
        return try Workbook(sheets: sheets + benefitSheets).xlsx()
    }

    /// A cell as CSV text: a name that begins like a formula is neutralised, a suppressed figure reads X.
    static func csvText(_ cell: Workbook.Cell) -> String {
        switch cell {
        case .text(let text): csvText(text)
        case .number(let value): String(value)
        case .decimal(let value, let decimals): Workbook.decimal(value, decimals)
        case .empty: ""
        }
    }

    /// A name as a spreadsheet should show it: one that begins like a formula (`=`, `+`, `-`, `@`)
    /// gets a leading apostrophe, so opening the file never runs it (names come from registries an
    /// administrator edits).
    public static func csvText(_ text: String) -> String {
        // A lone "-" (nothing to show) is no formula.
        guard let first = text.first, "=+-@\t\r".contains(first), text != BenefitReport.notComputed else { return text }
        return "'" + text
    }

    public func json() -> Data {
        struct Output: Encodable {
            var from: String, to: String, rulesetVersion: String, groupSizeMin: Int
            var rows: [OutputRow]
            var benefits: BenefitReport.Output?
        }
        struct OutputFigures: Encodable {
            var points: Int64?, yen: Int64?, residents: Int64?
            var suppressed: Bool
        }
        struct OutputRow: Encodable {
            var section: String, id: String, name: LocalizedText
            var awarded: OutputFigures?, redeemed: OutputFigures?, expired: OutputFigures?
        }
        func output(_ figures: Figures?) -> OutputFigures? {
            figures.map { OutputFigures(points: $0.points, yen: $0.yen, residents: $0.residents, suppressed: $0.points == nil) }
        }
        let value = Output(from: from.description, to: to.description, rulesetVersion: rulesetVersion, groupSizeMin: groupSizeMin,
                           rows: rows.map {
            OutputRow(section: $0.kind.rawValue, id: $0.id, name: $0.name, awarded: output($0.awarded), redeemed: output($0.redeemed),
                      expired: output($0.expired))
        }, benefits: benefits?.output)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try! encoder.encode(value) + Data("\n".utf8)
    }
}
