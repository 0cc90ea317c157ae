import AyumiCore
import AyumiReports
import AyumiStore
import Foundation
import GRDB

extension SQLiteReportReader {
    // A backtest reads every event and award of a period: the scans join nothing, and the few
    // residents, sponsors and feeds they name are looked up once each.

    func forEachStoredEvent(from: LocalDate, to: LocalDate, _ body: (StoredEvent) throws -> Void) throws {
        do {
            var names = Names(db: db)
            try db.makeStatement(sql: """
                SELECT external_id, kind, day, source, received_at, resident, \(EventColumns.names) FROM events
                WHERE day BETWEEN ? AND ? ORDER BY id
                """).forEachRow([.integer(Int64(from.dayNumber)), .integer(Int64(to.dayNumber))]) { row in
                guard let resident = try names.resident(row.integer(5)), let kind = Event.Kind(code: row.integer(1)),
                      let detail = EventColumns(row, from: 6).detail(kind: kind, day: Int(row.integer(2)))
                else { return }
                let source = row.integer(3)
                // A negative source is the resident's own app; 0 marks events from before sources were kept.
                let submitter: Submitter? = source < 0 ? .resident(resident.id) : source == LedgerWriter.legacySource ? nil : .feed(try names.feed(source))
                try body(StoredEvent(event: Event(id: row.text(0), residentID: resident.id, detail: detail), submitter: submitter,
                                 resident: resident, receivedAt: Date(millisecondsSince1970: row.integer(4))))
            }
        }
    }

    func forEachAwardShare(from: LocalDate, to: LocalDate, _ body: (AwardShare) throws -> Void) throws {
        do {
            var rules: [Int64: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM rules") { rules[row["id"]] = row["name"] }
            var names = Names(db: db)
            var previous: (event: Int64?, rule: Int64, award: Int64)?
            try db.makeStatement(sql: """
                SELECT credit, debit, amount, capped, day, event, rule, id FROM transfers
                WHERE kind = \(transfer: .award) AND day BETWEEN ? AND ? ORDER BY id
                """).forEachRow([.integer(Int64(from.dayNumber)), .integer(Int64(to.dayNumber))]) { row in
                guard let resident = try names.resident(row.integer(0)) else { return }
                // The shares of one award are written together, consecutive rows of one event and rule:
                // the first row's id names the award.
                let event = row.optionalInteger(5), rule = row.integer(6), id = row.integer(7)
                let award = if let previous, previous.event != nil, previous.event == event, previous.rule == rule { previous.award } else { id }
                previous = (event, rule, award)
                try body(AwardShare(award: award, ruleID: rules[rule] ?? "\(rule)", resident: resident, sponsorID: try names.account(row.integer(1)), points: row.integer(2),
                                capped: row.optionalInteger(3) != nil, day: LocalDate(dayNumber: Int(row.integer(4)))))
            }
        }
    }
}

extension SQLiteStore {
    public func drawEntrants(from: LocalDate, to: LocalDate) async throws -> [(resident: Resident, points: Int64)] {
        try await database.read { db in
            var names = Names(db: db)
            var entrants: [(resident: Resident, points: Int64)] = []
            try db.makeStatement(sql: """
                SELECT t.credit, SUM(t.amount) FROM transfers t JOIN rules r ON r.id = t.rule
                WHERE t.kind = \(transfer: .award) AND t.day BETWEEN ? AND ? AND r.name NOT LIKE '\(Award.drawRulePrefix)%' GROUP BY t.credit
                """).forEachRow([.integer(Int64(from.dayNumber)), .integer(Int64(to.dayNumber))]) { row in
                if let resident = try names.resident(row.integer(0)) { entrants.append((resident, row.integer(1))) }
            }
            return entrants
        }
    }

    public func recordDraw(_ record: DrawRecord, prizePoints: Int64, sponsorID: String, ruleID: String, rulesetVersion: String,
                           day: LocalDate, expiresOn: LocalDate) async throws -> DrawRecord {
        try await write { db in
            if let earlier = try Self.drawRecord(record.draw, db) { return earlier }
            try db.execute(sql: "INSERT INTO draws(draw, seed, eligible, winners, run_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [record.draw, record.seed, record.eligible, record.winners.joined(separator: ","),
                                       record.runAt.millisecondsSince1970])
            var writer = try LedgerWriter(db: db, at: record.runAt, submitter: .feed("draws"))
            for resident in record.winners {
                guard let account = try Self.resident(resident, db)?.account else { throw StoreError.unknownResident }
                try writer.record(Award(ruleID: ruleID, rulesetVersion: rulesetVersion, points: prizePoints,
                                        funding: [SponsorShare(sponsorID: sponsorID, points: prizePoints)], reason: LocalizedText(ja: "", en: "")),
                                  event: nil, resident: (resident, account), day: day, expiresOn: expiresOn)
            }
            try writer.flush()
            return record
        }
    }

    public func drawRecord(_ draw: String) async throws -> DrawRecord? {
        try await database.read { db in try Self.drawRecord(draw, db) }
    }

    static func drawRecord(_ draw: String, _ db: Database) throws -> DrawRecord? {
        try Row.fetchOne(db, sql: "SELECT seed, eligible, winners, run_at FROM draws WHERE draw = ?", arguments: [draw]).map { row in
            DrawRecord(draw: draw, seed: row[0], eligible: row[1], winners: labels(row[2]), runAt: Date(millisecondsSince1970: row[3]))
        }
    }
}

/// Residents, accounts and feeds by row id, each read once per scan.
private struct Names {
    let db: Database
    var residents: [Int64: Resident?] = [:]
    var accounts: [Int64: String] = [:]
    var feeds: [Int64: String] = [:]

    init(db: Database) { self.db = db }

    mutating func resident(_ account: Int64) throws -> Resident? {
        if let known = residents[account] { return known }
        let resident = try db.cachedStatement(sql: """
            SELECT a.external_id, r.birth_year, r.district, r.enrolled_day, r.tags, r.consents FROM residents r JOIN accounts a ON a.id = r.account
            WHERE r.account = ?
            """).firstRow(.integer(account)) { row in
            Resident(id: row.text(0), birthYear: Int(row.integer(1)), district: row.text(2), enrolledOn: LocalDate(dayNumber: Int(row.integer(3))),
                     tags: SQLiteStore.labels(row.text(4)), consents: SQLiteStore.labels(row.text(5)))
        }
        residents[account] = .some(resident)
        return resident
    }

    mutating func account(_ id: Int64) throws -> String {
        if let known = accounts[id] { return known }
        let name = try db.cachedStatement(sql: "SELECT external_id FROM accounts WHERE id = ?").firstRow(.integer(id)) { $0.text(0) } ?? "\(id)"
        accounts[id] = name
        return name
    }

    mutating func feed(_ source: Int64) throws -> String {
        if let known = feeds[source] { return known }
        let name = try db.cachedStatement(sql: "SELECT name FROM feeds WHERE id = ?").firstRow(.integer(source)) { $0.text(0) } ?? "\(source)"
        feeds[source] = name
        return name
    }
}
