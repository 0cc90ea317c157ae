import AyumiCore
import AyumiLedger
import AyumiStore
import Foundation
import GRDB

extension SQLiteStore {
    // MARK: Balance and history

    public func balance(residentID: String, on day: LocalDate) async throws -> Balance {
        try await database.read { db in
            guard let account = try Self.resident(residentID, db)?.account else { return Balance(spendable: 0, pastExpiry: 0) }
            let row = try Row.fetchOne(db, sql: """
                SELECT COALESCE(SUM(CASE WHEN expires_day >= ?1 AND COALESCE(available_day, 0) <= ?1 THEN remaining END), 0) AS spendable,
                       COALESCE(SUM(CASE WHEN expires_day < ?1 THEN remaining END), 0) AS past_expiry,
                       COALESCE(SUM(CASE WHEN expires_day >= ?1 AND available_day > ?1 THEN remaining END), 0) AS pending
                FROM transfers WHERE credit = ?2 AND remaining > 0
                """, arguments: [day.dayNumber, account])!
            return Balance(spendable: row["spendable"], pastExpiry: row["past_expiry"], pending: row["pending"])
        }
    }

    /// Entries group the transfers of one cause: an award's lots (one per sponsor) or a
    /// redemption's draws (one per lot). They are written together, one after the other, so an
    /// entry is a run of ids and its lowest id is the cursor: the next page starts below the whole run.
    public func history(residentID: String, beforeID: Int64?, limit: Int) async throws -> [HistoryEntry] {
        try await database.read { db in
            guard let account = try Self.resident(residentID, db)?.account else { return [] }
            return try Row.fetchAll(db, sql: """
                SELECT h.*, r.name AS rule_name, rs.version, e.kind AS event_kind, e.day AS event_day, e.at, e.detail,
                       m.external_id AS merchant, lr.ja AS reason_ja, lr.en AS reason_en
                FROM (SELECT MIN(id) AS id, kind, SUM(amount) AS points, rule, ruleset, event, redemption, MIN(day) AS day,
                             MIN(created_at) AS created_at, MIN(capped) AS capped,
                             MAX(available_day) AS available_day
                      FROM transfers WHERE ((kind = 1 AND credit = ?1) OR (kind = 2 AND debit = ?1)) AND id < ?2
                      GROUP BY kind, COALESCE(redemption, event, -id), rule ORDER BY id DESC LIMIT ?3) h
                LEFT JOIN rules r ON r.id = h.rule LEFT JOIN rulesets rs ON rs.id = h.ruleset LEFT JOIN events e ON e.id = h.event
                LEFT JOIN redemptions d ON d.id = h.redemption LEFT JOIN accounts m ON m.id = d.merchant
                LEFT JOIN legacy_reasons lr ON lr.transfer = h.id
                ORDER BY h.id DESC
                """, arguments: [account, beforeID ?? Int64.max, limit]).map { row in
                let award = (row["kind"] as Int64) == TransferKind.award.rawValue
                let points: Int64 = row["points"]
                let event = (row["event_kind"] as Int64?).flatMap { kind in
                    Event.detail(kind: kind, day: row["event_day"], at: row["at"], stored: row["detail"])
                }
                let recorded = (row["reason_ja"] as String?).map { LocalizedText(ja: $0, en: row["reason_en"]) }
                return HistoryEntry(id: row["id"], kind: award ? .award : .redemption, points: award ? points : -points,
                                    ruleID: row["rule_name"], rulesetVersion: row["version"], event: event, merchantID: row["merchant"],
                                    localDate: LocalDate(dayNumber: row["day"]), createdAt: Date(millisecondsSince1970: row["created_at"]),
                                    recordedReason: recorded, cappedBy: (row["capped"] as Int64?).map(Int.init),
                                    availableOn: (row["available_day"] as Int?).map(LocalDate.init(dayNumber:)))
            }
        }
    }

    /// The one statement that changes a balance: by a delta, never to a value read earlier.
    static func addToBalance(_ points: Int64, account: Int64, _ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE accounts SET balance = balance + ? WHERE id = ?").run(.integer(points), .integer(account))
    }

    // MARK: Redemptions

    public func redemption(merchantID: String, idempotencyKey: String) async throws -> RedemptionRecord? {
        try await database.read { db in try Self.redemption(merchantID: merchantID, idempotencyKey: idempotencyKey, db) }
    }

    static func redemption(merchantID: String, idempotencyKey: String, _ db: Database) throws -> RedemptionRecord? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT r.*, p.external_id AS resident_id FROM redemptions r JOIN accounts m ON m.id = r.merchant JOIN accounts p ON p.id = r.resident
            WHERE m.kind = 3 AND m.external_id = ? AND r.idempotency_key = ?
            """), arguments: [merchantID, idempotencyKey]) else { return nil }
        let id: Int64 = row["id"]
        let funding = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT s.external_id AS sponsor, SUM(d.amount) AS points
            FROM transfers d JOIN transfers l ON l.id = d.lot JOIN accounts s ON s.id = l.debit
            WHERE d.kind = 2 AND d.redemption = ? GROUP BY s.external_id ORDER BY s.external_id
            """), arguments: [id]).map { SponsorShare(sponsorID: $0["sponsor"], points: $0["points"]) }
        return RedemptionRecord(id: id, merchantID: merchantID, idempotencyKey: idempotencyKey, codeID: row["code_id"],
                                residentID: row["resident_id"], points: row["points"], funding: funding,
                                createdAt: Date(millisecondsSince1970: row["created_at"]))
    }

    public func redeem(_ request: RedemptionRequest) async throws -> RedemptionRecord {
        try await write { db in
            // Checked again inside the write: two retries racing each other see one winner.
            if let earlier = try Self.redemption(merchantID: request.merchantID, idempotencyKey: request.idempotencyKey, db) {
                guard earlier.codeID == request.codeID, earlier.points == request.points else { throw StoreError.idempotencyKeyReused }
                return earlier
            }
            guard let merchant = try Int64.fetchOne(db.cachedStatement(sql: """
                SELECT a.id FROM accounts a JOIN merchants m ON m.account = a.id WHERE a.kind = 3 AND a.external_id = ? AND m.active = 1
                """), arguments: [request.merchantID]) else { throw StoreError.unknownMerchant }
            guard let residentID = try String.fetchOne(db.cachedStatement(sql: "SELECT external_id FROM accounts WHERE id = ? AND kind = 2"),
                                                       arguments: [request.residentReference]) else { throw StoreError.unknownResident }
            let resident = request.residentReference
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM redemptions WHERE code_id = ?)"), arguments: [request.codeID])! {
                throw StoreError.codeAlreadyUsed
            }
            let lots = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT t.id, s.external_id AS sponsor, t.remaining, t.expires_day, t.available_day FROM transfers t JOIN accounts s ON s.id = t.debit
                WHERE t.credit = ? AND t.remaining > 0 ORDER BY t.expires_day, t.id
                """), arguments: [resident]).map { row in
                Lot(id: row["id"], sponsorID: row["sponsor"], pointsRemaining: row["remaining"], expiresOn: LocalDate(dayNumber: row["expires_day"]),
                    availableOn: (row["available_day"] as Int?).map(LocalDate.init(dayNumber:)))
            }
            guard let draws = Lots.draw(request.points, from: lots, on: request.localDate) else {
                throw StoreError.insufficientPoints(balance: Lots.spendable(lots, on: request.localDate))
            }
            let at = request.at.millisecondsSince1970
            try db.cachedStatement(sql: """
                INSERT INTO redemptions(merchant, idempotency_key, code_id, resident, points, day, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [merchant, request.idempotencyKey, request.codeID, resident, request.points, request.localDate.dayNumber, at])
            let redemptionID = db.lastInsertedRowID
            for draw in draws {
                try db.cachedStatement(sql: """
                    INSERT INTO transfers(kind, debit, credit, amount, day, redemption, lot, created_at) VALUES (2, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [resident, merchant, draw.points, request.localDate.dayNumber, redemptionID, draw.lotID, at])
                try db.cachedStatement(sql: "UPDATE transfers SET remaining = remaining - ? WHERE id = ?").execute(arguments: [draw.points, draw.lotID])
            }
            try Self.addToBalance(-request.points, account: resident, db)
            try Self.addToBalance(request.points, account: merchant, db)
            // Built from what is in hand, the way `redemption(merchantID:idempotencyKey:_:)` reads it
            // back for a retry: funding summed per sponsor in sponsor order, time in milliseconds.
            let funding = Dictionary(draws.map { ($0.sponsorID, $0.points) }, uniquingKeysWith: +)
                .sorted { $0.key < $1.key }.map { SponsorShare(sponsorID: $0.key, points: $0.value) }
            return RedemptionRecord(id: redemptionID, merchantID: request.merchantID, idempotencyKey: request.idempotencyKey,
                                    codeID: request.codeID, residentID: residentID, points: request.points, funding: funding,
                                    createdAt: Date(millisecondsSince1970: at))
        }
    }
}
