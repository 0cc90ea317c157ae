import Foundation

/// What a source tells Ayumi happened. The id is chosen by the source; the same id twice is the
/// same event, so retries of a batch never award twice.
public struct Event: Sendable, Hashable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case walk
        case transitTap = "transit_tap"
        case visit

        /// The number every store keeps for the kind: part of the stored format, never renumbered.
        public var code: Int64 {
            switch self {
            case .walk: 1
            case .transitTap: 2
            case .visit: 3
            }
        }

        public init?(code: Int64) {
            guard let kind = Self.allCases.first(where: { $0.code == code }) else { return nil }
            self = kind
        }
    }

    public enum Detail: Sendable, Hashable {
        /// Steps of one local day, as a total for that day (not a delta): a later report of the same
        /// day with more steps replaces the earlier count.
        case walk(date: LocalDate, steps: Int64, source: String)
        case transitTap(at: Date, mode: String, route: String, stop: String)
        /// Presence in a zone, as the zone id only: coordinates never reach Ayumi's storage.
        case visit(at: Date, zone: String)
    }

    public var id: String
    public var residentID: String
    public var detail: Detail

    public init(id: String, residentID: String, detail: Detail) {
        self.id = id
        self.residentID = residentID
        self.detail = detail
    }

    public var kind: Kind {
        switch detail {
        case .walk: .walk
        case .transitTap: .transitTap
        case .visit: .visit
        }
    }

    /// The local day the event belongs to, in the program's time zone.
    public func localDate(in timeZone: TimeZone) -> LocalDate {
        switch detail {
        case .walk(let date, _, _): date
        case .transitTap(let at, _, _, _), .visit(let at, _): LocalDate(instant: at, timeZone: timeZone)
        }
    }
}

/// Who told Ayumi an event happened: the resident's own app, or a named ingest feed (a transit
/// operator's tap records, the shops' check-in scanners). Event ids are unique per submitter only,
/// so one source can never claim, by accident or on purpose, an id another source will send.
public enum Submitter: Sendable, Hashable, CustomStringConvertible {
    case resident(String)
    case feed(String)

    /// The stored form, the first half of an event's idempotency key: `resident:r-123`, `feed:transit-operator`.
    public var source: String {
        switch self {
        case .resident(let id): "resident:\(id)"
        case .feed(let name): "feed:\(name)"
        }
    }

    public var description: String { source }
}

extension LocalDate {
    /// The local day of an instant. Day arithmetic on the zone's offset at that instant: a
    /// `Calendar` per call cost more than the whole ledger write of an event.
    public init(instant: Date, timeZone: TimeZone) {
        self.init(localSeconds: Int64(instant.timeIntervalSince1970.rounded(.down)) + Int64(timeZone.secondsFromGMT(for: instant)))
    }

    /// The day of a local clock reading, in seconds since 1970-01-01 00:00 local time.
    public init(localSeconds seconds: Int64) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        self.init(dayNumber: Int(days))
    }
}
