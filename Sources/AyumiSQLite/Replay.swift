import AyumiCore
import AyumiStore
import Foundation
import GRDB

extension SQLiteStore {
    public func forEachEvent(from: LocalDate, to: LocalDate, _ body: @escaping @Sendable (StoredEvent) -> Void) async throws {
        try await database.read { db in
            var residents: [Int64: Resident] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT e.external_id, e.kind, e.day, e.at, e.detail, e.source, e.received_at, e.resident, f.name,
                       a.external_id, r.birth_year, r.district, r.enrolled_day
                FROM events e JOIN residents r ON r.account = e.resident JOIN accounts a ON a.id = e.resident
                LEFT JOIN feeds f ON f.id = e.source
                WHERE e.day BETWEEN ? AND ? ORDER BY e.id
                """, arguments: [from.dayNumber, to.dayNumber])
            while let row = try rows.next() {
                let account: Int64 = row[7]
                let resident: Resident
                if let known = residents[account] {
                    resident = known
                } else {
                    resident = Resident(id: row[9], birthYear: row[10], district: row[11], enrolledOn: LocalDate(dayNumber: row[12]))
                    residents[account] = resident
                }
                guard let detail = Event.detail(kind: row[1], day: row[2], at: row[3], stored: row[4]) else { continue }
                let source: Int64 = row[5]
                // A negative source is the resident's own app; 0 marks events from before sources were kept.
                let submitter: Submitter = source < 0 ? .resident(resident.id) : .feed((row[8] as String?) ?? "legacy")
                body(StoredEvent(event: Event(id: row[0], residentID: resident.id, detail: detail), submitter: submitter, resident: resident,
                                 receivedAt: Date(millisecondsSince1970: row[6])))
            }
        }
    }

    public func forEachAwardShare(from: LocalDate, to: LocalDate, _ body: @escaping @Sendable (AwardShare) -> Void) async throws {
        try await database.read { db in
            var residents: [Int64: Resident] = [:]
            var sponsors: [Int64: String] = [:]
            var previous: (event: Int64?, rule: Int64, award: Int64)?
            let rows = try Row.fetchCursor(db, sql: """
                SELECT t.credit, t.debit, t.amount, t.capped, t.day, t.event, t.rule, t.id,
                       a.external_id, r.birth_year, r.district, r.enrolled_day, s.external_id
                FROM transfers t JOIN accounts a ON a.id = t.credit JOIN residents r ON r.account = t.credit
                JOIN accounts s ON s.id = t.debit
                WHERE t.kind = 1 AND t.day BETWEEN ? AND ? ORDER BY t.id
                """, arguments: [from.dayNumber, to.dayNumber])
            while let row = try rows.next() {
                let account: Int64 = row[0], sponsor: Int64 = row[1], id: Int64 = row[7]
                let resident = residents[account] ?? Resident(id: row[8], birthYear: row[9], district: row[10], enrolledOn: LocalDate(dayNumber: row[11]))
                residents[account] = resident
                let sponsorID = sponsors[sponsor] ?? row[12]
                sponsors[sponsor] = sponsorID
                // The shares of one award are written together, consecutive rows of one event and rule:
                // the first row's id names the award.
                let event: Int64? = row[5], rule: Int64 = row[6]
                let award = if let previous, previous.event != nil, previous.event == event, previous.rule == rule { previous.award } else { id }
                previous = (event, rule, award)
                body(AwardShare(award: award, resident: resident, sponsorID: sponsorID, points: row[2], capped: (row[3] as Int64?) != nil,
                                day: LocalDate(dayNumber: row[4])))
            }
        }
    }
}
