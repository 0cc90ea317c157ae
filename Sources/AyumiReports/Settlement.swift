import AyumiCore
import Foundation

/// A month's settlement: per merchant, what it took in points and gave back, and what each
/// sponsor owes it in yen for the points it kept (traced through the lots the points came from).
/// Redemptions and refunds count in the month of their own day: a refund made after a month was
/// settled appears in a later month's statement, as an adjustment of the earlier redemption, and
/// never changes a statement already sent.
public struct Settlement: Sendable, Hashable, Codable {
    /// One sponsor's part of one merchant's month.
    public struct Line: Sendable, Hashable, Codable {
        public var sponsorID: String
        public var sponsorName: LocalizedText
        public var redeemedPoints: Int64
        /// Refunds of this month's redemptions.
        public var refundedPoints: Int64
        /// Refunds made this month of redemptions of earlier months.
        public var adjustmentPoints: Int64
        public var netPoints: Int64 { redeemedPoints - refundedPoints - adjustmentPoints }
        public var yen: Int64

        public init(sponsorID: String, sponsorName: LocalizedText, redeemedPoints: Int64, refundedPoints: Int64, adjustmentPoints: Int64, yen: Int64) {
            self.sponsorID = sponsorID
            self.sponsorName = sponsorName
            self.redeemedPoints = redeemedPoints
            self.refundedPoints = refundedPoints
            self.adjustmentPoints = adjustmentPoints
            self.yen = yen
        }
    }

    public struct Statement: Sendable, Hashable, Codable {
        public var merchantID: String
        public var merchantName: LocalizedText
        public var settlementAccount: String
        public var redemptions: Int
        public var refunds: Int
        public var lines: [Line]
        public var redeemedPoints: Int64 { lines.reduce(0) { $0 + $1.redeemedPoints } }
        public var refundedPoints: Int64 { lines.reduce(0) { $0 + $1.refundedPoints + $1.adjustmentPoints } }
        public var netPoints: Int64 { lines.reduce(0) { $0 + $1.netPoints } }
        public var yen: Int64 { lines.reduce(0) { $0 + $1.yen } }
    }

    /// `YYYY-MM`.
    public var month: String
    public var from: LocalDate
    public var to: LocalDate
    public var programName: LocalizedText
    public var yenPerPoint: Int64
    /// Nil for a draft: the month as it stands, not frozen.
    public var settledAt: Date?
    public var statements: [Statement]

    public var netPoints: Int64 { statements.reduce(0) { $0 + $1.netPoints } }

    /// The same month with one merchant's statement only: what its own till may read.
    public func only(merchantID: String) -> Settlement {
        var copy = self
        copy.statements = statements.filter { $0.merchantID == merchantID }
        return copy
    }
    public var yen: Int64 { statements.reduce(0) { $0 + $1.yen } }

    /// The month's statements from the store's facts: one per merchant with any, sorted by id, each
    /// sponsor a line. Counts of redemptions and refunds are distinct per merchant (`counts`).
    public static func make(month: String, from: LocalDate, to: LocalDate, programName: LocalizedText, yenPerPoint: Int64,
                            facts: [SettlementFact], counts: [String: SettlementCounts], merchants: [String: Merchant],
                            sponsorNames: [String: LocalizedText], settledAt: Date?) -> Settlement {
        var byMerchant: [String: [String: Line]] = [:]
        for fact in facts {
            var line = byMerchant[fact.merchantID]?[fact.sponsorID]
                ?? Line(sponsorID: fact.sponsorID, sponsorName: sponsorNames[fact.sponsorID] ?? LocalizedText(ja: fact.sponsorID, en: fact.sponsorID),
                        redeemedPoints: 0, refundedPoints: 0, adjustmentPoints: 0, yen: 0)
            switch fact.kind {
            case .redemption: line.redeemedPoints += fact.points
            case .refund: line.refundedPoints += fact.points
            case .adjustment: line.adjustmentPoints += fact.points
            }
            line.yen = line.netPoints * yenPerPoint
            byMerchant[fact.merchantID, default: [:]][fact.sponsorID] = line
        }
        let statements = byMerchant.keys.sorted().map { id in
            let merchant = merchants[id]
            return Statement(merchantID: id, merchantName: merchant?.name ?? LocalizedText(ja: id, en: id),
                             settlementAccount: merchant?.settlementAccount ?? "", redemptions: counts[id]?.redemptions ?? 0,
                             refunds: counts[id]?.refunds ?? 0, lines: byMerchant[id]!.values.sorted { $0.sponsorID < $1.sponsorID })
        }
        return Settlement(month: month, from: from, to: to, programName: programName, yenPerPoint: yenPerPoint, settledAt: settledAt,
                          statements: statements)
    }

    // MARK: Formats

    static let headers: [LocalizedText] = [
        LocalizedText(ja: "対象月", en: "month"), LocalizedText(ja: "加盟店ID", en: "merchant_id"), LocalizedText(ja: "加盟店名", en: "merchant_name"),
        LocalizedText(ja: "振込先参照", en: "settlement_account"), LocalizedText(ja: "負担者ID", en: "sponsor_id"),
        LocalizedText(ja: "負担者名", en: "sponsor_name"), LocalizedText(ja: "利用ポイント", en: "redeemed_points"),
        LocalizedText(ja: "返金ポイント（当月分）", en: "refunded_points"), LocalizedText(ja: "返金ポイント（前月以前の調整）", en: "adjustment_points"),
        LocalizedText(ja: "差引ポイント", en: "net_points"), LocalizedText(ja: "支払額（円）", en: "yen"),
    ]

    /// One row per merchant and sponsor: UTF-8 with a byte order mark (Excel opens Japanese names),
    /// RFC 4180, CRLF. The yen column is what the sponsor owes the merchant.
    public func csv(_ language: Language) -> String {
        CSVDocument.text([Self.headers.map { $0.text(language) }] + statements.flatMap { statement in
            statement.lines.map { line in
                [month, statement.merchantID, BeneficiaryReport.csvText(statement.merchantName.text(language)),
                 BeneficiaryReport.csvText(statement.settlementAccount), line.sponsorID,
                 BeneficiaryReport.csvText(line.sponsorName.text(language)), String(line.redeemedPoints), String(line.refundedPoints),
                 String(line.adjustmentPoints), String(line.netPoints), String(line.yen)]
            }
        })
    }

    public func json() -> Data {
        struct OutputLine: Encodable {
            var sponsor: String, sponsorName: LocalizedText, redeemedPoints: Int64, refundedPoints: Int64, adjustmentPoints: Int64
            var netPoints: Int64, yen: Int64
        }
        struct OutputStatement: Encodable {
            var merchant: String, merchantName: LocalizedText, settlementAccount: String, redemptions: Int, refunds: Int
            var redeemedPoints: Int64, refundedPoints: Int64, netPoints: Int64, yen: Int64, lines: [OutputLine]
        }
        struct Output: Encodable {
            var month: String, from: String, to: String, settled: Bool, settledAt: String?, yenPerPoint: Int64
            var netPoints: Int64, yen: Int64, statements: [OutputStatement]
        }
        let value = Output(month: month, from: from.description, to: to.description, settled: settledAt != nil,
                           settledAt: settledAt.map { $0.formatted(.iso8601) }, yenPerPoint: yenPerPoint, netPoints: netPoints, yen: yen,
                           statements: statements.map { statement in
            OutputStatement(merchant: statement.merchantID, merchantName: statement.merchantName, settlementAccount: statement.settlementAccount,
                            redemptions: statement.redemptions, refunds: statement.refunds, redeemedPoints: statement.redeemedPoints,
                            refundedPoints: statement.refundedPoints, netPoints: statement.netPoints, yen: statement.yen,
                            lines: statement.lines.map {
                OutputLine(sponsor: $0.sponsorID, sponsorName: $0.sponsorName, redeemedPoints: $0.redeemedPoints, refundedPoints: $0.refundedPoints,
                           adjustmentPoints: $0.adjustmentPoints, netPoints: $0.netPoints, yen: $0.yen)
            })
        })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try! encoder.encode(value) + Data("\n".utf8)
    }

    /// A printable page per merchant (no script, no external assets): the statement a shop keeps.
    public func html(_ language: Language) -> String {
        func text(_ ja: String, _ en: String) -> String { language == .ja ? ja : en }
        func number(_ value: Int64) -> String { grouped(value) }
        var body = ""
        for statement in statements {
            body += """
                <section>
                <h1>\(Markup.escape(text("精算書", "Settlement statement"))) \(month)</h1>
                <p>\(Markup.escape(programName.text(language)))</p>
                <dl>
                <dt>\(text("加盟店", "Merchant"))</dt><dd>\(Markup.escape(statement.merchantName.text(language))) (\(Markup.escape(statement.merchantID)))</dd>
                <dt>\(text("振込先参照", "Settlement account"))</dt><dd>\(Markup.escape(statement.settlementAccount))</dd>
                <dt>\(text("期間", "Period"))</dt><dd>\(from) – \(to)</dd>
                <dt>\(text("利用件数 / 返金件数", "Redemptions / refunds"))</dt><dd>\(statement.redemptions) / \(statement.refunds)</dd>
                <dt>\(text("状態", "Status"))</dt><dd>\(settledAt.map { text("確定", "Settled") + " " + $0.formatted(.iso8601) } ?? text("下書き（未確定）", "Draft (not settled)"))</dd>
                </dl>
                <table>
                <thead><tr><th>\(text("負担者", "Sponsor"))</th><th>\(text("利用", "Redeemed"))</th><th>\(text("返金", "Refunded"))</th>\
                <th>\(text("調整", "Adjustments"))</th><th>\(text("差引ポイント", "Net points"))</th><th>\(text("支払額（円）", "Yen owed"))</th></tr></thead>
                <tbody>

                """
            for line in statement.lines {
                body += "<tr><td>\(Markup.escape(line.sponsorName.text(language)))</td><td>\(number(line.redeemedPoints))</td><td>\(number(line.refundedPoints))</td>"
                    + "<td>\(number(line.adjustmentPoints))</td><td>\(number(line.netPoints))</td><td>\(number(line.yen))</td></tr>\n"
            }
            body += """
                </tbody>
                <tfoot><tr><th>\(text("合計", "Total"))</th><td>\(number(statement.redeemedPoints))</td><td colspan="2">\(number(statement.refundedPoints))</td>\
                <td>\(number(statement.netPoints))</td><td>\(number(statement.yen))</td></tr></tfoot>
                </table>
                <p class="note">\(text("1ポイント = \(yenPerPoint)円（精算時の単価）。返金は返金した日の月に計上し、前月以前の利用の返金は「調整」に記載します。",
                                      "1 point = \(yenPerPoint) yen (the rate when settled). Refunds count in the month they are made; refunds of earlier months' redemptions are listed as adjustments."))</p>
                </section>

                """
        }
        if statements.isEmpty { body = "<section><h1>\(text("精算書", "Settlement statement")) \(month)</h1><p>\(text("この月の利用はありません。", "No redemptions this month."))</p></section>\n" }
        return """
            <!DOCTYPE html>
            <html lang="\(language.rawValue)"><head><meta charset="utf-8"><title>\(text("精算書", "Settlement")) \(month)</title>
            <style>
            body { font-family: sans-serif; margin: 2em; }
            section { page-break-after: always; }
            table { border-collapse: collapse; width: 100%; }
            th, td { border: 1px solid #444; padding: 0.3em 0.6em; text-align: right; }
            th:first-child, td:first-child { text-align: left; }
            dt { font-weight: bold; } dd { margin: 0 0 0.4em 0; }
            .note { font-size: 0.85em; }
            </style></head>
            <body>
            \(body)</body></html>

            """
    }
}
