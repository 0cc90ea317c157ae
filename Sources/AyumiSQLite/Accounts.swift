import AyumiCore
import AyumiLedger
import AyumiStore
import Foundation
import GRDB

extension SQLiteStore {
    // MARK: Balance and history

    public func openLots(residentID: String) async throws -> [Lot] {
        try await database.read { db in
            guard let account = try Self.resident(residentID, db)?.account else { return [] }
            return try Self.openLots(account, db)
        }
    }

    /// The lots of a resident's account that still hold points, first to expire first.
    static func openLots(_ account: Int64, _ db: Database) throws -> [Lot] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT t.id, s.external_id AS sponsor, t.remaining, t.expires_day, t.available_day FROM transfers t JOIN accounts s ON s.id = t.debit
            WHERE t.credit = ? AND t.remaining > 0 ORDER BY t.expires_day, t.id
            """), arguments: [account]).map { row in
            Lot(id: row["id"], sponsorID: row["sponsor"], pointsRemaining: row["remaining"], expiresOn: LocalDate(dayNumber: row["expires_day"]),
                availableOn: (row["available_day"] as Int?).map(LocalDate.init(dayNumber:)))
        }
    }

    /// Entries group the transfers of one cause: an award's lots (one per sponsor) or a
    /// redemption's draws (one per lot). They are written together, one after the other, so an
    /// entry is a run of ids and its lowest id is the cursor: the next page starts below the whole run.
    public func history(residentID: String, beforeID: Int64?, limit: Int) async throws -> [HistoryEntry] {
        try await database.read { db in
            guard let account = try Self.resident(residentID, db)?.account else { return [] }
            return try Row.fetchAll(db, sql: """
                SELECT h.*, r.name AS rule_name, rs.version, e.kind AS event_kind, e.day AS event_day, e.at, e.steps, e.device, e.mode, e.route, e.stop, e.zone,
                       m.external_id AS merchant, lr.ja AS reason_ja, lr.en AS reason_en
                FROM (SELECT MIN(id) AS id, kind, SUM(CASE WHEN kind = \(transfer: .refund) AND credit <> ?1 THEN 0 ELSE amount END) AS points,
                             SUM(CASE WHEN kind = \(transfer: .refund) AND credit <> ?1 THEN amount ELSE 0 END) AS to_sponsors,
                             rule, ruleset, event, redemption, MIN(day) AS day,
                             MIN(created_at) AS created_at, MIN(capped) AS capped,
                             MAX(available_day) AS available_day
                      FROM transfers WHERE ((kind = \(transfer: .award) AND credit = ?1) OR (kind = \(transfer: .redemption) AND debit = ?1) OR (kind = \(transfer: .refund) AND credit = ?1)
                                            OR (kind = \(transfer: .expiry) AND debit = ?1)
                                            -- a refund's points that went to the sponsors still show, as part of its line
                                            OR (kind = \(transfer: .refund) AND redemption IN (SELECT id FROM redemptions WHERE resident = ?1))) AND id < ?2
                      GROUP BY kind, COALESCE(refund, redemption, event, CASE WHEN kind = \(transfer: .expiry) THEN day END, -id), rule ORDER BY id DESC LIMIT ?3) h
                LEFT JOIN rules r ON r.id = h.rule LEFT JOIN rulesets rs ON rs.id = h.ruleset LEFT JOIN events e ON e.id = h.event
                LEFT JOIN redemptions d ON d.id = h.redemption LEFT JOIN accounts m ON m.id = d.merchant
                LEFT JOIN legacy_reasons lr ON lr.transfer = h.id
                ORDER BY h.id DESC
                """, arguments: [account, beforeID ?? Int64.max, limit]).map { row in
                let kind = Transfer.Kind(code: row["kind"])!
                let points: Int64 = row["points"]
                let event = (row["event_kind"] as Int64?).flatMap(Event.Kind.init(code:)).flatMap { kind in
                    EventColumns(row).detail(kind: kind, day: row["event_day"])
                }
                let recorded = (row["reason_ja"] as String?).map { LocalizedText(ja: $0, en: row["reason_en"]) }
                return HistoryEntry(id: row["id"], kind: kind, points: kind == .redemption || kind == .expiry ? -points : points,
                                    ruleID: row["rule_name"], rulesetVersion: row["version"], event: event, merchantID: row["merchant"],
                                    localDate: LocalDate(dayNumber: row["day"]), createdAt: Date(millisecondsSince1970: row["created_at"]),
                                    recordedReason: recorded, cappedBy: (row["capped"] as Int64?).map(Int.init),
                                    availableOn: (row["available_day"] as Int?).map(LocalDate.init(dayNumber:)), toSponsors: row["to_sponsors"])
            }
        }
    }

    /// Writes movements of points as the ledger model makes them (`Transfer.redemption`, `.refund`,
    /// `.expiry`): each transfer's row with its cause, its lot's remaining points by `lotChange`, and
    /// the accounts' balances by its two legs, summed per account. `accounts` gives the store's
    /// number for every account the transfers name.
    static func write(_ transfers: [Transfer], accounts: [Account: Int64], day: LocalDate, redemption: Int64? = nil, refund: Int64? = nil,
                      at: Int64, _ db: Database) throws {
        var balances: [Int64: Int64] = [:]
        for transfer in transfers {
            precondition(transfer.kind != .award, "awards are written with their lots, by LedgerWriter")
            let debit = accounts[transfer.debit]!, credit = accounts[transfer.credit]!
            try db.cachedStatement(sql: """
                INSERT INTO transfers(kind, debit, credit, amount, day, redemption, lot, refund, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [transfer.kind.code, debit, credit, transfer.amount, day.dayNumber, redemption, transfer.lot, refund, at])
            if transfer.lotChange != 0, let lot = transfer.lot {
                try db.cachedStatement(sql: "UPDATE transfers SET remaining = remaining + ? WHERE id = ?").execute(arguments: [transfer.lotChange, lot])
            }
            balances[debit, default: 0] -= transfer.amount
            balances[credit, default: 0] += transfer.amount
        }
        for (account, points) in balances.sorted(by: { $0.key < $1.key }) where points != 0 { try addToBalance(points, account: account, db) }
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
            WHERE m.kind = \(account: .merchant) AND m.external_id = ? AND r.idempotency_key = ?
            """), arguments: [merchantID, idempotencyKey]) else { return nil }
        let id: Int64 = row["id"]
        let funding = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT s.external_id AS sponsor, SUM(d.amount) AS points
            FROM transfers d JOIN transfers l ON l.id = d.lot JOIN accounts s ON s.id = l.debit
            WHERE d.kind = \(transfer: .redemption) AND d.redemption = ? GROUP BY s.external_id ORDER BY s.external_id
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
            let (merchant, limits) = try Self.merchantTakingPoints(request.merchantID, db)
            guard let residentID = try String.fetchOne(db.cachedStatement(sql: "SELECT external_id FROM accounts WHERE id = ? AND kind = \(account: .resident)"),
                                                       arguments: [request.residentReference]) else { throw StoreError.unknownResident }
            let resident = request.residentReference
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM redemptions WHERE code_id = ?)"), arguments: [request.codeID])! {
                throw StoreError.codeAlreadyUsed
            }
            let lots = try Self.openLots(resident, db)
            // What the shop took today, read in this transaction, only when it has limits.
            let hasLimits = limits.pointsPerDay != nil || limits.pointsPerResidentPerDay != nil
            let taken = Spending.TakenToday(hasLimits ? try Self.redemptions(merchant: merchant, day: request.localDate, payer: resident, db) : [])
            let draws: [LotDraw]
            switch Spending.plan(request.points, from: lots, on: request.localDate, limits: limits, taken: taken) {
            case .success(let planned): draws = planned
            case .failure(.merchantDailyLimit(let left)): throw StoreError.merchantDailyLimit(left: left)
            case .failure(.residentDailyLimitAtMerchant(let left)): throw StoreError.residentDailyLimitAtMerchant(left: left)
            case .failure(.insufficientPoints(let balance)): throw StoreError.insufficientPoints(balance: balance)
            }
            let at = request.at.millisecondsSince1970
            try db.cachedStatement(sql: """
                INSERT INTO redemptions(merchant, idempotency_key, code_id, resident, points, day, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [merchant, request.idempotencyKey, request.codeID, resident, request.points, request.localDate.dayNumber, at])
            let redemptionID = db.lastInsertedRowID
            try Self.write(Transfer.redemption(draws, residentID: residentID, merchantID: request.merchantID),
                           accounts: [.resident(residentID): resident, .merchant(request.merchantID): merchant], day: request.localDate,
                           redemption: redemptionID, at: at, db)
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

extension SQLiteStore {
    // MARK: Refunds

    public func refund(_ request: RefundRequest) async throws -> RefundRecord {
        try await write { db in
            let (merchant, _) = try Self.merchantTakingPoints(request.merchantID, db)
            // Checked inside the write: two retries racing each other see one winner.
            if let earlier = try Self.refund(merchant: merchant, merchantID: request.merchantID, idempotencyKey: request.idempotencyKey, db) {
                guard earlier.redemptionID == request.redemptionID, request.points.map({ $0 == earlier.points }) ?? true else {
                    throw StoreError.idempotencyKeyReused
                }
                return earlier
            }
            // Another merchant's redemption is as unknown as one never made.
            guard let redemption = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT r.resident, r.day, a.external_id AS resident_id FROM redemptions r JOIN accounts a ON a.id = r.resident
                WHERE r.id = ? AND r.merchant = ?
                """), arguments: [request.redemptionID, merchant]) else { throw StoreError.unknownRedemption }
            let resident: Int64 = redemption["resident"], residentID: String = redemption["resident_id"]
            var accounts: [Account: Int64] = [.resident(residentID): resident, .merchant(request.merchantID): merchant]
            // What each lot gave and has had back, with its sponsor's account for the points that go
            // straight back to it.
            let lots = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT t.lot, SUM(t.amount) AS drawn, l.expires_day, l.debit AS sponsor, s.external_id AS sponsor_id,
                       COALESCE((SELECT SUM(f.amount) FROM transfers f WHERE f.kind = \(transfer: .refund) AND f.redemption = t.redemption AND f.lot = t.lot), 0) AS refunded
                FROM transfers t JOIN transfers l ON l.id = t.lot JOIN accounts s ON s.id = l.debit
                WHERE t.kind = \(transfer: .redemption) AND t.redemption = ? GROUP BY t.lot
                """), arguments: [request.redemptionID]).map { row in
                accounts[.sponsor(row["sponsor_id"])] = row["sponsor"]
                return Refunds.DrawnLot(lotID: row["lot"], sponsorID: row["sponsor_id"], expiresOn: LocalDate(dayNumber: row["expires_day"]),
                                        drawn: row["drawn"], refunded: row["refunded"])
            }
            let shares: [Refunds.Share]
            switch Refunds.allocate(request.points, of: lots, redeemedOn: LocalDate(dayNumber: redemption["day"]), on: request.localDate,
                                    refundDaysMax: request.refundDaysMax) {
            case .success(let allocated): shares = allocated
            case .failure(.tooLate(let days)): throw StoreError.refundTooLate(days: days)
            case .failure(.exceedsRedemption(let refundable)): throw StoreError.refundExceedsRedemption(refundable: refundable)
            }
            let points = shares.reduce(0) { $0 + $1.points }
            let at = request.at.millisecondsSince1970
            try db.cachedStatement(sql: """
                INSERT INTO refunds(redemption, merchant, idempotency_key, points, day, created_at) VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [request.redemptionID, merchant, request.idempotencyKey, points, request.localDate.dayNumber, at])
            let refundID = db.lastInsertedRowID
            try Self.write(Transfer.refund(shares, residentID: residentID, merchantID: request.merchantID), accounts: accounts,
                           day: request.localDate, redemption: request.redemptionID, refund: refundID, at: at, db)
            return try Self.refund(merchant: merchant, merchantID: request.merchantID, idempotencyKey: request.idempotencyKey, db)!
        }
    }

    static func refund(merchant: Int64, merchantID: String, idempotencyKey: String, _ db: Database) throws -> RefundRecord? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT id, redemption, points, created_at FROM refunds WHERE merchant = ? AND idempotency_key = ?
            """), arguments: [merchant, idempotencyKey]) else { return nil }
        let id: Int64 = row["id"], redemption: Int64 = row["redemption"]
        var funding: [String: Int64] = [:], expired: [String: Int64] = [:]
        for share in try Row.fetchAll(db.cachedStatement(sql: """
            SELECT s.external_id AS sponsor, t.amount, t.credit = l.debit AS expired
            FROM transfers t JOIN transfers l ON l.id = t.lot JOIN accounts s ON s.id = l.debit WHERE t.kind = \(transfer: .refund) AND t.refund = ?
            """), arguments: [id]) {
            funding[share["sponsor"], default: 0] += share["amount"]
            if share["expired"] as Bool { expired[share["sponsor"], default: 0] += share["amount"] }
        }
        let redeemed = try Int64.fetchOne(db.cachedStatement(sql: "SELECT points FROM redemptions WHERE id = ?"), arguments: [redemption])!
        let refunded = try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(SUM(points), 0) FROM refunds WHERE redemption = ? AND id <= ?"),
                                          arguments: [redemption, id])!
        func shares(_ points: [String: Int64]) -> [SponsorShare] { points.sorted { $0.key < $1.key }.map { SponsorShare(sponsorID: $0.key, points: $0.value) } }
        return RefundRecord(id: id, redemptionID: redemption, merchantID: merchantID, idempotencyKey: idempotencyKey, points: row["points"],
                            funding: shares(funding), expired: shares(expired), refundable: redeemed - refunded,
                            createdAt: Date(millisecondsSince1970: row["created_at"]))
    }
}

extension SQLiteStore {
    /// The merchant's account and limits, if it may redeem and refund now.
    static func merchantTakingPoints(_ merchantID: String, _ db: Database) throws -> (account: Int64, limits: Spending.Limits) {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT a.id, m.suspended, m.points_per_day, m.points_per_resident_per_day FROM accounts a JOIN merchants m ON m.account = a.id
            WHERE a.kind = \(account: .merchant) AND a.external_id = ? AND m.active = 1
            """), arguments: [merchantID]) else { throw StoreError.unknownMerchant }
        guard !(row["suspended"] as Bool) else { throw StoreError.merchantSuspended }
        return (row["id"], Spending.Limits(pointsPerDay: row["points_per_day"], pointsPerResidentPerDay: row["points_per_resident_per_day"]))
    }

    /// The merchant's redemptions of `day` with what was refunded of them, summed in two rows: those
    /// `payer` made and the others (a busy shop's day is not read into memory at every redemption).
    static func redemptions(merchant: Int64, day: LocalDate, payer: Int64, _ db: Database) throws -> [Spending.DayRedemption] {
        try Row.fetchAll(db.cachedStatement(sql: """
            SELECT r.resident = ?3 AS mine, SUM(r.points) AS points,
                   COALESCE(SUM((SELECT SUM(f.points) FROM refunds f WHERE f.redemption = r.id)), 0) AS refunded
            FROM redemptions r WHERE r.merchant = ?1 AND r.day = ?2 GROUP BY mine
            """), arguments: [merchant, day.dayNumber, payer]).map {
            Spending.DayRedemption(points: $0["points"], refunded: $0["refunded"], fromResident: $0["mine"])
        }
    }
}

extension SQLiteStore {
    // MARK: Expiry

    /// The expiry transfer's day is `Lots.returnDay`: the first day the points were no longer valid.
    public func expireLots(before asOf: LocalDate, at: Date, limit: Int) async throws -> ExpiryRun {
        try await write { db in
            // Read and zeroed in one transaction: a second run, here or in another process, finds
            // these lots empty.
            let lots = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT t.id, t.debit, t.credit, t.remaining, t.expires_day, s.external_id AS sponsor_id, r.external_id AS resident_id
                FROM transfers t JOIN accounts s ON s.id = t.debit JOIN accounts r ON r.id = t.credit
                WHERE t.remaining > 0 AND t.expires_day < ? ORDER BY t.expires_day, t.id LIMIT ?
                """), arguments: [asOf.dayNumber, limit])
            var points: Int64 = 0
            let at = at.millisecondsSince1970
            for lot in lots {
                let remaining: Int64 = lot["remaining"], residentID: String = lot["resident_id"], sponsorID: String = lot["sponsor_id"]
                try Self.write([Transfer.expiry(lot: lot["id"], points: remaining, residentID: residentID, sponsorID: sponsorID)],
                               accounts: [.resident(residentID): lot["credit"], .sponsor(sponsorID): lot["debit"]],
                               day: Lots.returnDay(lastDay: LocalDate(dayNumber: lot["expires_day"])), at: at, db)
                points += remaining
            }
            return ExpiryRun(lots: lots.count, points: points)
        }
    }
}

extension SQLiteStore {
    public func redemptions(merchantID: String, on day: LocalDate) async throws -> [MerchantRedemption] {
        try await database.read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT r.id, r.points, r.created_at, COALESCE((SELECT SUM(f.points) FROM refunds f WHERE f.redemption = r.id), 0) AS refunded
                FROM redemptions r JOIN accounts m ON m.id = r.merchant WHERE m.kind = \(account: .merchant) AND m.external_id = ? AND r.day = ?
                ORDER BY r.id DESC
                """), arguments: [merchantID, day.dayNumber]).map {
                MerchantRedemption(id: $0["id"], points: $0["points"], refunded: $0["refunded"], createdAt: Date(millisecondsSince1970: $0["created_at"]))
            }
        }
    }
}

extension SQLiteStore {
    // MARK: Cards

    private struct CardNumberTaken: Error {}

    public func issueCard(_ card: NewCard, residentID: String, at: Date) async throws -> Bool {
        do {
            return try await issueCardOnce(card, residentID: residentID, at: at)
        } catch is CardNumberTaken {
            return false
        }
    }

    private func issueCardOnce(_ card: NewCard, residentID: String, at: Date) async throws -> Bool {
        try await write { db in
            guard let resident = try Self.resident(residentID, db)?.account else { throw StoreError.unknownResident }
            let now = at.millisecondsSince1970
            try db.cachedStatement(sql: "UPDATE cards SET revoked_at = ? WHERE resident = ? AND revoked_at IS NULL").execute(arguments: [now, resident])
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO cards(number, resident, pin_hash, pin_salt, issued_at) VALUES (?, ?, ?, ?, ?)
                """).execute(arguments: [card.number, resident, card.pinHash, card.pinSalt, now])
            // The number is taken: the whole transaction is undone, the old card included.
            guard db.changesCount == 1 else { throw CardNumberTaken() }
            return true
        }
    }

    static func card(number: String, _ db: Database) throws -> StoredCard? {
        try Row.fetchOne(db.cachedStatement(sql: """
            SELECT number, resident, pin_hash, pin_salt, failures, locked, revoked_at IS NOT NULL AS revoked FROM cards WHERE number = ?
            """), arguments: [number]).map {
            StoredCard(number: $0["number"], residentReference: $0["resident"], pinHash: $0["pin_hash"], pinSalt: $0["pin_salt"],
                       failures: $0["failures"], locked: $0["locked"], revoked: $0["revoked"])
        }
    }

    public func card(number: String) async throws -> StoredCard? {
        try await database.read { db in try Self.card(number: number, db) }
    }

    public func chargePINTry(number: String, lockAfter: Int) async throws -> StoredCard? {
        try await write { db in
            guard let card = try Self.card(number: number, db), !card.revoked, !card.locked else { return nil }
            try db.cachedStatement(sql: """
                UPDATE cards SET failures = failures + 1, locked = CASE WHEN failures + 1 >= ? THEN 1 ELSE 0 END WHERE number = ?
                """).execute(arguments: [lockAfter, number])
            return card
        }
    }

    public func clearWrongPINs(number: String) async throws {
        try await write { db in
            try db.cachedStatement(sql: "UPDATE cards SET failures = 0, locked = 0 WHERE number = ? AND revoked_at IS NULL").execute(arguments: [number])
        }
    }

    public func unlockCard(residentID: String) async throws -> Bool {
        try await write { db in
            guard let resident = try Self.resident(residentID, db)?.account else { return false }
            try db.cachedStatement(sql: "UPDATE cards SET failures = 0, locked = 0 WHERE resident = ? AND revoked_at IS NULL").execute(arguments: [resident])
            return db.changesCount == 1
        }
    }
}
