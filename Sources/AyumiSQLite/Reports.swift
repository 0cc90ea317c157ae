import AyumiCore
import AyumiLedger
import AyumiReports
import AyumiStore
import Foundation
import GRDB

extension SQLiteStore: ReportSource {
    public func readReports<T: Sendable>(_ body: @escaping @Sendable (any ReportReader) throws -> T) async throws -> T {
        try await database.read { db in try body(SQLiteReportReader(db: db)) }
    }
}

/// The report queries, on one read transaction's connection.
struct SQLiteReportReader: ReportReader {
    let db: Database

    /// One grouped pass over the period's transfers of each kind, through the (kind, day) index: the
    /// rule and sponsor of the lot each moved, the merchant, the resident (a refund's is its
    /// redemption's). Accounts and rules are named once each.
    func ledgerMovements(from: LocalDate, to: LocalDate) throws -> [LedgerMovement] {
        let range: StatementArguments = [from.dayNumber, to.dayNumber]
        let ruleNames = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT id, name FROM rules").map { ($0["id"] as Int64, $0["name"] as String) })
        let accountNames = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: """
            SELECT id, external_id FROM accounts WHERE kind IN (\(account: .sponsor), \(account: .merchant))
            """).map { ($0["id"] as Int64, $0["external_id"] as String) })
        let queries: [(LedgerMovement.Kind, String)] = [
            (.awarded, """
                SELECT t.rule AS rule, t.debit AS sponsor, NULL AS merchant, t.credit AS resident, 0 AS earlier, SUM(t.amount) AS points
                FROM transfers t WHERE t.kind = \(transfer: .award) AND t.day BETWEEN ?1 AND ?2 GROUP BY t.rule, t.debit, t.credit
                """),
            (.redeemed, """
                SELECT l.rule AS rule, l.debit AS sponsor, t.credit AS merchant, t.debit AS resident, 0 AS earlier, SUM(t.amount) AS points
                FROM transfers t JOIN transfers l ON l.id = t.lot WHERE t.kind = \(transfer: .redemption) AND t.day BETWEEN ?1 AND ?2
                GROUP BY l.rule, l.debit, t.credit, t.debit
                """),
            (.refunded, """
                SELECT l.rule AS rule, l.debit AS sponsor, t.debit AS merchant, d.resident AS resident, d.day < ?1 AS earlier, SUM(t.amount) AS points
                FROM transfers t JOIN transfers l ON l.id = t.lot JOIN redemptions d ON d.id = t.redemption
                WHERE t.kind = \(transfer: .refund) AND t.day BETWEEN ?1 AND ?2 GROUP BY l.rule, l.debit, t.debit, d.resident, earlier
                """),
            (.expired, """
                SELECT l.rule AS rule, t.credit AS sponsor, NULL AS merchant, t.debit AS resident, 0 AS earlier, SUM(t.amount) AS points
                FROM transfers t JOIN transfers l ON l.id = t.lot WHERE t.kind = \(transfer: .expiry) AND t.day BETWEEN ?1 AND ?2
                GROUP BY l.rule, t.credit, t.debit
                """),
        ]
        return try queries.flatMap { kind, sql in
            try Row.fetchAll(db, sql: sql, arguments: range).map { row in
                LedgerMovement(kind: kind, rule: ruleNames[row["rule"]] ?? "", sponsor: accountNames[row["sponsor"]] ?? "",
                               merchant: (row["merchant"] as Int64?).map { accountNames[$0] ?? "" }, resident: row["resident"],
                               ofEarlierRedemption: row["earlier"], points: row["points"])
            }
        }
    }

    func merchantCounts(from: LocalDate, to: LocalDate) throws -> [String: SettlementCounts] {
        let range: StatementArguments = [from.dayNumber, to.dayNumber]
        var counts: [String: SettlementCounts] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT m.external_id AS merchant, COUNT(*) AS n FROM redemptions r JOIN accounts m ON m.id = r.merchant
            WHERE r.day BETWEEN ?1 AND ?2 GROUP BY m.external_id
            """, arguments: range) {
            counts[row["merchant"], default: SettlementCounts(redemptions: 0, refunds: 0)].redemptions = row["n"]
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT m.external_id AS merchant, COUNT(*) AS n FROM refunds f JOIN accounts m ON m.id = f.merchant
            WHERE f.day BETWEEN ?1 AND ?2 GROUP BY m.external_id
            """, arguments: range) {
            counts[row["merchant"], default: SettlementCounts(redemptions: 0, refunds: 0)].refunds = row["n"]
        }
        return counts
    }
}

extension SQLiteStore {
    // MARK: Audit

    public func audit() async throws -> LedgerAudit {
        try await database.read { db in
            let limit = LedgerAudit.findingsPerKindMax
            let name = "CASE a.kind WHEN \(account: .sponsor) THEN 'sponsor:' WHEN \(account: .resident) THEN 'resident:' ELSE 'merchant:' END || a.external_id"
            let transferCount = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM transfers")!
            let balances = try Row.fetchAll(db, sql: """
                SELECT \(name) AS account, a.balance, COALESCE(c.total, 0) - COALESCE(d.total, 0) AS posted FROM accounts a
                LEFT JOIN (SELECT credit AS account, SUM(amount) AS total FROM transfers GROUP BY credit) c ON c.account = a.id
                LEFT JOIN (SELECT debit AS account, SUM(amount) AS total FROM transfers GROUP BY debit) d ON d.account = a.id
                WHERE a.balance <> COALESCE(c.total, 0) - COALESCE(d.total, 0) ORDER BY a.id LIMIT \(limit)
                """).map { ($0["account"] as String, $0["balance"] as Int64, $0["posted"] as Int64) }
            let negative = try Row.fetchAll(db, sql: """
                SELECT \(name) AS account, a.balance FROM accounts a WHERE a.kind = \(account: .resident) AND a.balance < 0 ORDER BY a.id LIMIT \(limit)
                """).map { ($0["account"] as String, $0["balance"] as Int64) }
            let lots = try Row.fetchAll(db, sql: """
                SELECT \(name) AS account, a.balance, COALESCE(l.remaining, 0) AS remaining FROM accounts a
                LEFT JOIN (SELECT credit AS account, SUM(remaining) AS remaining FROM transfers WHERE kind = \(transfer: .award) GROUP BY credit) l ON l.account = a.id
                WHERE a.kind = \(account: .resident) AND a.balance <> COALESCE(l.remaining, 0) ORDER BY a.id LIMIT \(limit)
                """).map { ($0["account"] as String, $0["balance"] as Int64, $0["remaining"] as Int64) }
            // Refunds count into a lot only when they went back to its holder (a lot past its last day
            // gives them to its sponsor).
            let remainders = try Row.fetchAll(db, sql: """
                SELECT l.id, l.amount, l.remaining, COALESCE(d.drawn, 0) - COALESCE(f.refunded, 0) AS drawn FROM transfers l
                LEFT JOIN (SELECT lot, SUM(amount) AS drawn FROM transfers WHERE kind IN (\(transfer: .redemption), \(transfer: .expiry)) GROUP BY lot) d ON d.lot = l.id
                LEFT JOIN (SELECT t.lot, SUM(t.amount) AS refunded FROM transfers t JOIN transfers h ON h.id = t.lot
                           WHERE t.kind = \(transfer: .refund) AND t.credit = h.credit GROUP BY t.lot) f ON f.lot = l.id
                WHERE l.kind = \(transfer: .award) AND l.remaining <> l.amount - COALESCE(d.drawn, 0) + COALESCE(f.refunded, 0) ORDER BY l.id LIMIT \(limit)
                """).map { ($0["id"] as Int64, $0["amount"] as Int64, $0["remaining"] as Int64, $0["drawn"] as Int64) }
            let refundSums = try Row.fetchAll(db, sql: """
                SELECT f.id, f.points, COALESCE(t.total, 0) AS total FROM refunds f
                LEFT JOIN (SELECT refund, SUM(amount) AS total FROM transfers WHERE kind = \(transfer: .refund) GROUP BY refund) t ON t.refund = f.id
                WHERE f.points <> COALESCE(t.total, 0) ORDER BY f.id LIMIT \(limit)
                """).map { ($0["id"] as Int64, $0["points"] as Int64, $0["total"] as Int64) }
            let exceeding = try Row.fetchAll(db, sql: """
                SELECT r.id, r.points, f.refunded FROM redemptions r JOIN (SELECT redemption, SUM(points) AS refunded FROM refunds GROUP BY redemption) f
                  ON f.redemption = r.id
                WHERE f.refunded > r.points ORDER BY r.id LIMIT \(limit)
                """).map { ($0["id"] as Int64, $0["points"] as Int64, $0["refunded"] as Int64) }
            let refundsAstray = try Row.fetchAll(db, sql: """
                SELECT t.refund, t.id FROM transfers t JOIN refunds f ON f.id = t.refund JOIN redemptions r ON r.id = f.redemption
                  LEFT JOIN transfers l ON l.id = t.lot
                WHERE t.kind = \(transfer: .refund) AND (t.debit <> r.merchant OR t.redemption IS NOT f.redemption OR l.kind IS NOT \(transfer: .award)
                      OR f.merchant IS NOT r.merchant
                      OR NOT ((t.credit = l.debit AND t.day > l.expires_day) OR (t.credit = l.credit AND l.credit = r.resident AND t.day <= l.expires_day))
                      OR (SELECT SUM(amount) FROM transfers x WHERE x.kind = \(transfer: .refund) AND x.redemption = r.id AND x.lot = t.lot)
                         > (SELECT COALESCE(SUM(amount), 0) FROM transfers y WHERE y.kind = \(transfer: .redemption) AND y.redemption = r.id AND y.lot = t.lot))
                ORDER BY t.id LIMIT \(limit)
                """).map { ($0["refund"] as Int64, $0["id"] as Int64) }
            let draws = try Row.fetchAll(db, sql: """
                SELECT r.id, r.points, COALESCE(d.drawn, 0) AS drawn FROM redemptions r
                LEFT JOIN (SELECT redemption, SUM(amount) AS drawn FROM transfers WHERE kind = \(transfer: .redemption) GROUP BY redemption) d ON d.redemption = r.id
                WHERE r.points <> COALESCE(d.drawn, 0) ORDER BY r.id LIMIT \(limit)
                """).map { ($0["id"] as Int64, $0["points"] as Int64, $0["drawn"] as Int64) }
            let pastExpiry = try Row.fetchAll(db, sql: """
                SELECT t.redemption, t.lot, t.day, l.expires_day FROM transfers t JOIN transfers l ON l.id = t.lot
                WHERE t.kind = \(transfer: .redemption) AND t.day > l.expires_day ORDER BY t.id LIMIT \(limit)
                """).map {
                ($0["redemption"] as Int64, $0["lot"] as Int64, LocalDate(dayNumber: $0["day"]).description,
                 LocalDate(dayNumber: $0["expires_day"]).description)
            }
            let othersLots = try Row.fetchAll(db, sql: """
                SELECT t.redemption, t.lot, p.external_id AS payer, h.external_id AS holder FROM transfers t JOIN transfers l ON l.id = t.lot
                  JOIN accounts p ON p.id = t.debit JOIN accounts h ON h.id = l.credit
                WHERE t.kind = \(transfer: .redemption) AND t.debit <> l.credit ORDER BY t.id LIMIT \(limit)
                """).map { ($0["redemption"] as Int64, $0["lot"] as Int64, $0["payer"] as String, $0["holder"] as String) }
            let astray = try Row.fetchAll(db, sql: """
                SELECT t.redemption, t.id FROM transfers t JOIN redemptions r ON r.id = t.redemption LEFT JOIN transfers l ON l.id = t.lot
                WHERE t.kind = \(transfer: .redemption) AND (t.debit <> r.resident OR t.credit <> r.merchant OR l.kind IS NOT \(transfer: .award)) ORDER BY t.id LIMIT \(limit)
                """).map { ($0["redemption"] as Int64, $0["id"] as Int64) }
            let expiriesAstray = try Row.fetchAll(db, sql: """
                SELECT t.lot, t.id FROM transfers t LEFT JOIN transfers l ON l.id = t.lot
                WHERE t.kind = \(transfer: .expiry) AND (l.kind IS NOT \(transfer: .award) OR t.debit <> l.credit OR t.credit <> l.debit OR t.day <= l.expires_day)
                ORDER BY t.id LIMIT \(limit)
                """).map { ($0["lot"] as Int64, $0["id"] as Int64) }
            var audit = LedgerAudit(transferCount: transferCount, balanceMismatches: balances, negativeResidentBalances: negative,
                                    lotMismatches: lots, lotRemainderMismatches: remainders, redemptionDrawMismatches: draws,
                                    drawsPastExpiry: pastExpiry, drawsFromOthersLots: othersLots, drawsAstray: astray)
            audit.refundMismatches = refundSums
            audit.refundsExceeding = exceeding
            audit.refundsAstray = refundsAstray
            audit.expiriesAstray = expiriesAstray
            return audit
        }
    }
}

extension SQLiteStore {
    // MARK: Settlement

    public func settlement(month: Int) async throws -> StoredSettlement? {
        try await database.read { db in try Self.settlement(month: month, db) }
    }

    static func settlement(month: Int, _ db: Database) throws -> StoredSettlement? {
        try Row.fetchOne(db, sql: "SELECT content, settled_at FROM settlements WHERE month = ?", arguments: [month]).map {
            StoredSettlement(month: month, content: $0["content"], settledAt: Date(millisecondsSince1970: $0["settled_at"]))
        }
    }

    public func saveSettlement(_ settlement: StoredSettlement) async throws -> StoredSettlement {
        try await write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO settlements(month, content, settled_at) VALUES (?, ?, ?)",
                           arguments: [settlement.month, settlement.content, settlement.settledAt.millisecondsSince1970])
            return try Self.settlement(month: settlement.month, db)!
        }
    }
}


extension SQLiteReportReader {
    // MARK: Residents' activity, as the reports' counting reads it

    func enrolments(through: LocalDate) throws -> [Enrolment] {
        try Row.fetchAll(db, sql: "SELECT account, birth_year, district, enrolled_day FROM residents WHERE enrolled_day <= ? ORDER BY account",
                         arguments: [through.dayNumber]).map {
            Enrolment(resident: $0["account"], birthYear: $0["birth_year"], district: $0["district"], enrolled: LocalDate(dayNumber: $0["enrolled_day"]))
        }
    }

    /// Through the (kind, day) index, one kind at a time, read with raw column access: a report reads
    /// every event of its period, a million of them in a city's month.
    func forEachActivity(from: LocalDate?, to: LocalDate, _ body: (Activity) throws -> Void) throws {
        let range: [RawValue] = [.integer(Int64(from?.dayNumber ?? Int.min)), .integer(Int64(to.dayNumber))]
        for kind in Event.Kind.allCases {
            let column = switch kind {
            case .walk: "steps"
            case .transitTap: "mode"
            case .visit: "zone"
            }
            try db.cachedStatement(sql: """
                SELECT resident, day, \(column) FROM events WHERE kind = \(kind.code) AND day BETWEEN ? AND ? AND rejection IS NULL
                """).forEachRow(range) { row in
                let detail: Activity.Detail = switch kind {
                case .walk: .walk(steps: row.integer(2))
                case .transitTap: .ride(mode: row.text(2))
                case .visit: .visit(zone: row.text(2))
                }
                try body(Activity(resident: row.integer(0), day: LocalDate(dayNumber: Int(row.integer(1))), detail: detail))
            }
        }
    }

    func residentPoints(from: LocalDate, to: LocalDate) throws -> ResidentPoints {
        let range: StatementArguments = [from.dayNumber, to.dayNumber]
        func sums(_ sql: String) throws -> [Int64: Int64] {
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: sql, arguments: range).map { ($0[0] as Int64, $0[1] as Int64) })
        }
        return ResidentPoints(
            awarded: try sums("SELECT credit, SUM(amount) FROM transfers WHERE kind = \(transfer: .award) AND day BETWEEN ?1 AND ?2 GROUP BY credit"),
            redeemed: try sums("SELECT debit, SUM(amount) FROM transfers WHERE kind = \(transfer: .redemption) AND day BETWEEN ?1 AND ?2 GROUP BY debit"),
            refunded: try sums("""
                SELECT d.resident, SUM(t.amount) FROM transfers t JOIN redemptions d ON d.id = t.redemption
                WHERE t.kind = \(transfer: .refund) AND t.day BETWEEN ?1 AND ?2 GROUP BY d.resident
                """),
            redemptions: try sums("SELECT resident, COUNT(*) FROM redemptions WHERE day BETWEEN ?1 AND ?2 GROUP BY resident"))
    }
}
