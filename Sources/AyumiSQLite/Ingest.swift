import AyumiCore
import AyumiLedger
import AyumiStore
import Foundation
import GRDB

extension SQLiteStore {
    public func ingest(_ events: [Event], from submitter: Submitter, at: Date, counterKeys: @escaping @Sendable (Event) -> [CounterKey],
                       decide: @escaping @Sendable (Event, Resident?, [CounterKey: Counter]) -> IngestDecision) async throws -> [IngestResult] {
        try await write { db in
            var writer = try LedgerWriter(db: db, at: at, submitter: submitter)
            var residents: [String: (account: Int64, resident: Resident)?] = [:]
            var results: [IngestResult] = []
            results.reserveCapacity(events.count)
            for event in events {
                // With legacy events present, a (rare) read before evaluating; otherwise the insert
                // of a new row is the idempotency check, and only a conflict costs a read.
                var existing = writer.hasLegacyEvents ? try writer.existingEvent(event.id) : .unknown
                if case .accepted = existing {
                    results.append(.duplicate(event.id))
                    continue
                }
                let resident: (account: Int64, resident: Resident)?
                if let cached = residents[event.residentID] {
                    resident = cached
                } else {
                    resident = try Self.resident(event.residentID, db)
                    residents[event.residentID] = resident
                }
                var counters: [CounterKey: Counter] = [:]
                if let resident {
                    for key in counterKeys(event) { counters[key] = try writer.counter(key, resident: resident.account) }
                }
                let decision = decide(event, resident?.resident, counters)
                switch decision.evaluation.outcome {
                case .rejected(let reason):
                    // Kept with its reason for the review queue and backtests; an event for nobody
                    // enrolled has no one to be kept for, but its id may still be a duplicate.
                    guard let resident else {
                        if case .unknown = existing { existing = try writer.existingEvent(event.id) }
                        results.append(existing.isAccepted ? .duplicate(event.id)
                                       : IngestResult(eventID: event.id, status: .rejected, awards: [], reason: reason))
                        continue
                    }
                    guard try writer.recordEvent(event, resident: resident.account, day: decision.localDate, rejection: reason,
                                                 existing: existing) != nil else {
                        results.append(.duplicate(event.id))
                        continue
                    }
                    results.append(IngestResult(eventID: event.id, status: .rejected, awards: [], reason: reason))
                case .accepted(let awards, let note):
                    // The rules engine accepts only an enrolled resident's event; anything else changes nothing.
                    guard let resident else { throw StoreError.unknownResident }
                    guard let eventID = try writer.recordEvent(event, resident: resident.account, day: decision.localDate,
                                                               rejection: nil, existing: existing) else {
                        results.append(.duplicate(event.id))
                        continue
                    }
                    for award in awards {
                        try writer.record(award, event: eventID, resident: (resident.resident.id, resident.account), day: decision.localDate,
                                          expiresOn: decision.expiresOn)
                    }
                    for delta in decision.evaluation.deltas { try writer.add(delta, resident: resident.account) }
                    results.append(IngestResult(eventID: event.id, status: .accepted, awards: awards, reason: note))
                }
            }
            try writer.flush()
            return results
        }
    }
}

/// Writes ledger rows inside one open transaction with cached statements: the hot path of ingest.
/// It never reads back what it already knows (row ids come from `lastInsertedRowID`), keeps the
/// ids, counters and balance changes of the batch in memory, and writes each account's balance
/// and each counter once, in `flush()`.
struct LedgerWriter {
    let db: Database
    let atMilliseconds: Int64
    /// The submitter as stored: a feed's id, or a resident's account negated.
    let source: Int64
    private var ruleIDs: [String: Int64] = [:]
    private var rulesetIDs: [String: Int64] = [:]
    private var sponsorAccounts: [String: Int64] = [:]
    private var counterNames: [String: Int64] = [:]
    private var counters: [CounterKey: Counter] = [:]
    private var counterChanges: [CounterKey: (subject: Int64, name: Int64, delta: CounterDelta)] = [:]
    private var balanceChanges: [Int64: Int64] = [:]

    /// The source of events recorded before ids were kept per source: they count as sent by every source.
    static let legacySource: Int64 = 0

    /// Whether events from before ids were kept per source (source 0) exist: they count as sent
    /// by every source, which the insert's conflict alone cannot see.
    let hasLegacyEvents: Bool

    enum Existing {
        /// Not looked up: the insert will tell.
        case unknown
        case none
        case accepted
        /// A rejected event of this source: evaluated again, and its row replaced.
        case rejected(Int64)

        var isAccepted: Bool { if case .accepted = self { true } else { false } }
    }

    init(db: Database, at: Date, submitter: Submitter) throws {
        self.db = db
        self.atMilliseconds = at.millisecondsSince1970
        switch submitter {
        case .feed(let name):
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO feeds(name) VALUES (?)").execute(arguments: [name])
            source = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM feeds WHERE name = ?"), arguments: [name])!
        case .resident(let id):
            source = -(try SQLiteStore.account(.resident, id, db))
        }
        hasLegacyEvents = try db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM events WHERE source = \(Self.legacySource))").firstIntegers(1)![0] != 0
    }

    /// Whether this source sent the id before. Events recorded before ids were kept per source carry
    /// source 0 and count for every source: a feed retrying an event it sent before the upgrade must
    /// get `duplicate`, not a second award.
    func existingEvent(_ externalID: String) throws -> Existing {
        // An accepted row sorts first: it makes the event a duplicate whatever else is there.
        guard let row = try db.cachedStatement(sql: """
            SELECT id, rejection IS NOT NULL AS rejected FROM events WHERE source IN (?, \(Self.legacySource)) AND external_id = ?
            ORDER BY rejection IS NOT NULL LIMIT 1
            """).firstIntegers(2, .integer(source), .text(externalID)) else { return .none }
        return row[1] != 0 ? .rejected(row[0]) : .accepted
    }

    /// A counter as this batch has left it. `resident` is the account of the event's resident,
    /// the only resident whose counters its evaluation names.
    mutating func counter(_ key: CounterKey, resident: Int64) throws -> Counter {
        if let known = counters[key] { return known }
        var counter = Counter.zero
        if let name = try counterName(key.name, create: false),
           let row = try db.cachedStatement(sql: "SELECT points, count FROM counters WHERE subject = ? AND name = ? AND period = ?")
            .firstIntegers(2, .integer(try subject(key.subject, resident: resident)), .integer(name), .integer(Int64(key.period))) {
            counter = Counter(points: row[0], count: row[1])
        }
        counters[key] = counter
        return counter
    }

    /// Who a counter belongs to, as stored: a resident's or a sponsor's account, 0 for everyone.
    mutating func subject(_ subject: CounterKey.Subject, resident: Int64) throws -> Int64 {
        switch subject {
        case .resident: resident
        case .sponsor(let id): try sponsorAccount(id)
        case .program: 0
        }
    }

    mutating func counterName(_ name: String, create: Bool) throws -> Int64? {
        if let id = counterNames[name] { return id }
        if create { try db.cachedStatement(sql: "INSERT OR IGNORE INTO counter_names(name) VALUES (?)").execute(arguments: [name]) }
        guard let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM counter_names WHERE name = ?"), arguments: [name]) else {
            return nil
        }
        counterNames[name] = id
        return id
    }

    mutating func ruleID(_ name: String, create: Bool) throws -> Int64? {
        if let id = ruleIDs[name] { return id }
        if create { try db.cachedStatement(sql: "INSERT OR IGNORE INTO rules(name) VALUES (?)").execute(arguments: [name]) }
        guard let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM rules WHERE name = ?"), arguments: [name]) else { return nil }
        ruleIDs[name] = id
        return id
    }

    mutating func rulesetID(_ version: String) throws -> Int64 {
        if let id = rulesetIDs[version] { return id }
        guard let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM rulesets WHERE version = ?"), arguments: [version]) else {
            throw StoreError.rulesetNotInstalled(version)
        }
        rulesetIDs[version] = id
        return id
    }

    /// Stores the event (replacing this source's rejected row of the same id) and returns its row
    /// id, or nil when the id is already accepted: a duplicate, which changes nothing.
    func recordEvent(_ event: Event, resident: Int64, day: LocalDate, rejection: LocalizedText?, existing: Existing) throws -> Int64? {
        let rejectionText = try rejection.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        // One array, built once: this runs for every event of every batch.
        var values: [RawValue] = []
        values.reserveCapacity(15)
        values += [.integer(source), .text(event.id), .integer(resident), .integer(event.kind.code), .integer(Int64(day.dayNumber))]
        EventColumns(event.detail).append(to: &values)
        values.append(rejectionText.map(RawValue.text) ?? .null)
        values.append(.integer(atMilliseconds))
        var existing = existing
        switch existing {
        case .accepted: return nil
        case .rejected: break
        case .none, .unknown:
            try db.cachedStatement(sql: """
                INSERT INTO events(source, external_id, resident, kind, day, \(EventColumns.names), rejection, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, external_id) DO NOTHING
                """).run(values)
            if db.changesCount == 1 { return db.lastInsertedRowID }
            // This source sent the id before.
            existing = try existingEvent(event.id)
        }
        guard case .rejected(let replacing) = existing else { return nil }
        try db.cachedStatement(sql: """
            UPDATE events SET resident = ?, kind = ?, day = ?, at = ?, steps = ?, device = ?, mode = ?, route = ?, stop = ?, zone = ?,
                              rejection = ?, received_at = ?
            WHERE id = ?
            """).run(Array(values.dropFirst(2)) + [.integer(replacing)])
        return replacing
    }

    /// One transfer (one lot) per funding sponsor, as `Transfer.award` makes them; balances change by
    /// their postings in `flush()`. `event` is nil for a prize of a draw, which no event caused.
    mutating func record(_ award: Award, event: Int64?, resident: (id: String, account: Int64), day: LocalDate, expiresOn: LocalDate) throws {
        let rule = try ruleID(award.ruleID, create: true)!
        let ruleset = try rulesetID(award.rulesetVersion)
        for transfer in Transfer.award(award, residentID: resident.id) {
            let sponsor = try sponsorAccount(transfer.debit.id)
            try db.cachedStatement(sql: """
                INSERT INTO transfers(kind, debit, credit, amount, day, rule, ruleset, event, remaining, expires_day, created_at, capped,
                                      available_day)
                VALUES (\(transfer: .award), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).run(.integer(sponsor), .integer(resident.account), .integer(transfer.amount), .integer(Int64(day.dayNumber)), .integer(rule),
                         .integer(ruleset), event.map(RawValue.integer) ?? .null, .integer(transfer.amount), .integer(Int64(expiresOn.dayNumber)),
                         .integer(atMilliseconds), award.cappedBy.map { .integer(Int64($0)) } ?? .null,
                         award.availableOn.map { .integer(Int64($0.dayNumber)) } ?? .null)
            balanceChanges[sponsor, default: 0] -= transfer.amount
            balanceChanges[resident.account, default: 0] += transfer.amount
        }
    }

    /// Adds to a counter in memory; written, guarded, in `flush()`. The bound kept is the latest:
    /// each event's was computed from the counter as the batch had left it, so it is the tightest.
    mutating func add(_ delta: CounterDelta, resident: Int64) throws {
        let key = delta.key
        let previous = try counter(key, resident: resident)
        counters[key] = Counter(points: previous.points + delta.points, count: previous.count + delta.count)
        var change: (subject: Int64, name: Int64, delta: CounterDelta)
        if let known = counterChanges[key] {
            change = known
        } else {
            change = (try subject(key.subject, resident: resident), try counterName(key.name, create: true)!, CounterDelta(key: key, points: 0, count: 0))
        }
        change.delta.points += delta.points
        change.delta.count += delta.count
        change.delta.pointsMax = delta.pointsMax
        change.delta.countMax = delta.countMax
        counterChanges[key] = change
    }

    mutating func sponsorAccount(_ id: String) throws -> Int64 {
        if let account = sponsorAccounts[id] { return account }
        let account = try SQLiteStore.account(.sponsor, id, db)
        sponsorAccounts[id] = account
        return account
    }


    /// Writes the summed balance changes and the counter deltas. Each delta is guarded in the
    /// statement (`points + delta <= max`), not written as a value computed from an earlier read,
    /// so a store whose transactions may interleave can never pass a cap. Call once, before commit.
    mutating func flush() throws {
        for (account, points) in balanceChanges.sorted(by: { $0.key < $1.key }) where points != 0 {
            try SQLiteStore.addToBalance(points, account: account, db)
        }
        let ordered = counterChanges.values.sorted { ($0.subject, $0.name, $0.delta.key.period) < ($1.subject, $1.name, $1.delta.key.period) }
        for change in ordered {
            let delta = change.delta
            let pointsMax = delta.pointsMax ?? .max, countMax = delta.countMax ?? .max
            // The insert has no row to guard against: the delta alone must fit.
            guard delta.points <= pointsMax, delta.count <= countMax else { throw StoreError.counterLimitExceeded }
            try db.cachedStatement(sql: """
                INSERT INTO counters(subject, name, period, points, count) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(subject, name, period) DO UPDATE SET points = points + excluded.points, count = count + excluded.count
                WHERE points + excluded.points <= ? AND count + excluded.count <= ?
                """).run(.integer(change.subject), .integer(change.name), .integer(Int64(delta.key.period)), .integer(delta.points),
                         .integer(delta.count), .integer(pointsMax), .integer(countMax))
            guard db.changesCount == 1 else { throw StoreError.counterLimitExceeded }
        }
        balanceChanges.removeAll()
        counterChanges.removeAll()
    }
}

/// An event's details as the typed columns of `events` keep them: a walk's steps and device, a
/// tap's mode, route and stop, a visit's zone (never coordinates), and the instant of taps and
/// visits. Columns that do not apply to the kind are NULL, as the table's CHECKs require.
struct EventColumns {
    var at: Int64?
    var steps: Int64?
    var device: String?
    var mode: String?
    var route: String?
    var stop: String?
    var zone: String?

    /// The columns in the order `names` lists them.
    static let names = "at, steps, device, mode, route, stop, zone"

    init(_ detail: Event.Detail) {
        switch detail {
        case .walk(_, let steps, let device): self.steps = steps; self.device = device
        case .transitTap(let at, let mode, let route, let stop): self.at = at.millisecondsSince1970; self.mode = mode; self.route = route; self.stop = stop
        case .visit(let at, let zone): self.at = at.millisecondsSince1970; self.zone = zone
        }
    }

    /// Reads the columns `names` lists, from `first` on.
    init(_ row: RawRow, from first: Int32) {
        at = row.optionalInteger(first)
        steps = row.optionalInteger(first + 1)
        device = row.optionalText(first + 2)
        mode = row.optionalText(first + 3)
        route = row.optionalText(first + 4)
        stop = row.optionalText(first + 5)
        zone = row.optionalText(first + 6)
    }

    init(_ row: Row) {
        at = row["at"]
        steps = row["steps"]
        device = row["device"]
        mode = row["mode"]
        route = row["route"]
        stop = row["stop"]
        zone = row["zone"]
    }

    /// Appends the columns in the order `names` lists them.
    func append(to values: inout [RawValue]) {
        values.append(at.map(RawValue.integer) ?? .null)
        values.append(steps.map(RawValue.integer) ?? .null)
        values.append(device.map(RawValue.text) ?? .null)
        values.append(mode.map(RawValue.text) ?? .null)
        values.append(route.map(RawValue.text) ?? .null)
        values.append(stop.map(RawValue.text) ?? .null)
        values.append(zone.map(RawValue.text) ?? .null)
    }

    /// The event's details back; nil if the kind's columns are missing (the CHECKs make that impossible).
    func detail(kind: Event.Kind, day: Int) -> Event.Detail? {
        switch kind {
        case .walk: steps.flatMap { steps in device.map { .walk(date: LocalDate(dayNumber: day), steps: steps, source: $0) } }
        case .transitTap:
            if let at, let mode, let route, let stop { .transitTap(at: Date(millisecondsSince1970: at), mode: mode, route: route, stop: stop) } else { nil }
        case .visit: if let at, let zone { .visit(at: Date(millisecondsSince1970: at), zone: zone) } else { nil }
        }
    }
}
