import AyumiCore
import AyumiRules
import AyumiStore
import Foundation

/// Who gained what in a period: points (and their yen value) funded by each sponsor and redeemed
/// at each merchant, and how many residents each reached. A first version of the guidebook's
/// "clarify beneficiaries" table; benefit coefficients join it in a later issue.
///
/// Reproducible: the same ledger and period give byte-identical output (fixed row order, no
/// generation timestamp). Private: any resident count below the program's group size minimum is
/// shown as suppressed, never as the number.
public struct BeneficiaryReport: Sendable, Hashable {
    public struct Row: Sendable, Hashable {
        public enum Section: String, Sendable { case program, sponsor, rule, merchant }
        public var section: Section
        public var id: String
        public var name: LocalizedText
        public var pointsAwarded: Int64
        public var pointsRedeemed: Int64
        public var yenAwarded: Int64
        public var yenRedeemed: Int64
        /// nil when suppressed.
        public var residents: Int64?
    }

    public var from: LocalDate
    public var to: LocalDate
    public var rulesetVersion: String
    public var groupSizeMin: Int
    public var rows: [Row]

    public init(facts: BeneficiaryFacts, ruleset: Ruleset, merchants: [Merchant], from: LocalDate, to: LocalDate) {
        let yen = ruleset.program.yenPerPoint
        let k = Int64(ruleset.program.reportGroupSizeMin)
        func shown(_ residents: Int64) -> Int64? { residents >= k ? residents : nil }
        var rows: [Row] = []
        let awardedTotal = facts.rules.reduce(0) { $0 + $1.pointsAwarded }
        let redeemedTotal = facts.merchants.reduce(0) { $0 + $1.pointsRedeemed }
        rows.append(Row(section: .program, id: "all", name: ruleset.program.name, pointsAwarded: awardedTotal,
                        pointsRedeemed: redeemedTotal, yenAwarded: awardedTotal * yen, yenRedeemed: redeemedTotal * yen,
                        residents: shown(facts.residentsReached)))
        for sponsor in ruleset.sponsors {
            let fact = facts.sponsors.first { $0.sponsorID == sponsor.id }
            let awarded = fact?.pointsAwarded ?? 0, redeemed = fact?.pointsRedeemed ?? 0
            rows.append(Row(section: .sponsor, id: sponsor.id, name: sponsor.name, pointsAwarded: awarded, pointsRedeemed: redeemed,
                            yenAwarded: awarded * yen, yenRedeemed: redeemed * yen, residents: shown(fact?.residents ?? 0)))
        }
        for rule in ruleset.rules {
            let fact = facts.rules.first { $0.ruleID == rule.id }
            let awarded = fact?.pointsAwarded ?? 0
            rows.append(Row(section: .rule, id: rule.id, name: rule.name, pointsAwarded: awarded, pointsRedeemed: 0,
                            yenAwarded: awarded * yen, yenRedeemed: 0, residents: shown(fact?.residents ?? 0)))
        }
        for merchant in merchants {
            let fact = facts.merchants.first { $0.merchantID == merchant.id }
            let redeemed = fact?.pointsRedeemed ?? 0
            rows.append(Row(section: .merchant, id: merchant.id, name: merchant.name, pointsAwarded: 0, pointsRedeemed: redeemed,
                            yenAwarded: 0, yenRedeemed: redeemed * yen, residents: shown(fact?.residents ?? 0)))
        }
        self.from = from
        self.to = to
        self.rulesetVersion = ruleset.version
        self.groupSizeMin = Int(k)
        self.rows = rows
    }

    static let headers: [LocalizedText] = [
        LocalizedText(ja: "区分", en: "section"), LocalizedText(ja: "ID", en: "id"), LocalizedText(ja: "名称", en: "name"),
        LocalizedText(ja: "付与ポイント", en: "points_awarded"), LocalizedText(ja: "利用ポイント", en: "points_redeemed"),
        LocalizedText(ja: "付与額（円）", en: "yen_awarded"), LocalizedText(ja: "利用額（円）", en: "yen_redeemed"),
        LocalizedText(ja: "対象住民数", en: "residents"),
    ]

    static func sectionName(_ section: Row.Section) -> LocalizedText {
        switch section {
        case .program: LocalizedText(ja: "事業全体", en: "program")
        case .sponsor: LocalizedText(ja: "負担者", en: "sponsor")
        case .rule: LocalizedText(ja: "付与ルール", en: "rule")
        case .merchant: LocalizedText(ja: "加盟店", en: "merchant")
        }
    }

    /// RFC 4180 CSV with CRLF line ends; a suppressed count reads `<k` (such as `<10`).
    public func csv(language: Language) -> String {
        var lines = [Self.headers.map { $0.text(language) }.joined(separator: ",")]
        for row in rows {
            let cells = [Self.sectionName(row.section).text(language), row.id, row.name.text(language),
                         String(row.pointsAwarded), String(row.pointsRedeemed), String(row.yenAwarded), String(row.yenRedeemed),
                         row.residents.map(String.init) ?? "<\(groupSizeMin)"]
            lines.append(cells.map(Self.csvCell).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func csvCell(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public func json() -> Data {
        struct Output: Encodable {
            var from: String, to: String, rulesetVersion: String, groupSizeMin: Int
            var rows: [OutputRow]
        }
        struct OutputRow: Encodable {
            var section: String, id: String, name: LocalizedText
            var pointsAwarded: Int64, pointsRedeemed: Int64, yenAwarded: Int64, yenRedeemed: Int64
            var residents: Int64?, residentsSuppressed: Bool
        }
        let output = Output(from: from.description, to: to.description, rulesetVersion: rulesetVersion, groupSizeMin: groupSizeMin,
                            rows: rows.map {
            OutputRow(section: $0.section.rawValue, id: $0.id, name: $0.name, pointsAwarded: $0.pointsAwarded,
                      pointsRedeemed: $0.pointsRedeemed, yenAwarded: $0.yenAwarded, yenRedeemed: $0.yenRedeemed,
                      residents: $0.residents, residentsSuppressed: $0.residents == nil)
        })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try! encoder.encode(output) + Data("\n".utf8)
    }
}
