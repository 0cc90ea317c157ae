import AyumiCore
import Foundation

// What reports read, and the facts they are computed from. The reports module owns these: each
// store implements `ReportSource` (and its `ReportReader`) with its own queries, and the storage
// module does not decide what a report means.

/// A store that reports can read.
public protocol ReportSource: Sendable {
    /// Runs `body` in one read transaction: every figure a report reads through the reader comes from
    /// the same state of the ledger, however long the report takes and whatever is written meanwhile.
    func readReports<T: Sendable>(_ body: @escaping @Sendable (any ReportReader) throws -> T) async throws -> T
}

/// What the ledger holds of one merchant's points from one sponsor's lots on some local days.
public struct SettlementFact: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case redemption
        /// A refund of a redemption of the same period.
        case refund
        /// A refund of a redemption of an earlier period.
        case adjustment
    }

    public var merchantID: String
    public var sponsorID: String
    public var kind: Kind
    public var points: Int64

    public init(merchantID: String, sponsorID: String, kind: Kind, points: Int64) {
        self.merchantID = merchantID
        self.sponsorID = sponsorID
        self.kind = kind
        self.points = points
    }
}

/// How many redemptions and refunds a merchant made on some local days.
public struct SettlementCounts: Sendable, Hashable {
    public var redemptions: Int
    public var refunds: Int

    public init(redemptions: Int, refunds: Int) {
        self.redemptions = redemptions
        self.refunds = refunds
    }
}

/// Counts over some local days: what the monthly indicators are computed from.
public struct IndicatorFacts: Sendable, Hashable {
    /// Residents enrolled by the last day.
    public var enrolled: Int64
    /// Residents with at least one accepted event on the days.
    public var active: Int64
    public var pointsAwarded: Int64
    public var redemptions: Int64
    /// Resident-days with a walk, and their steps (each day at its largest report).
    public var walkDays: Int64
    public var steps: Int64
    /// Residents who walked, and those whose average over their walk days reached 8,000 steps.
    public var walkers: Int64
    public var walkersReaching8000: Int64
    /// Accepted transit taps and downtown visits.
    public var rides: Int64
    public var visits: Int64
    /// The residents behind each count: awarded points, redeeming, riding, visiting.
    public var awardedResidents: Int64
    public var redeemers: Int64
    public var riders: Int64
    public var visitors: Int64

    public init(enrolled: Int64, active: Int64, pointsAwarded: Int64, redemptions: Int64, walkDays: Int64, steps: Int64, walkers: Int64,
                walkersReaching8000: Int64, rides: Int64, visits: Int64, awardedResidents: Int64, redeemers: Int64, riders: Int64,
                visitors: Int64) {
        self.awardedResidents = awardedResidents
        self.redeemers = redeemers
        self.riders = riders
        self.visitors = visitors
        self.enrolled = enrolled
        self.active = active
        self.pointsAwarded = pointsAwarded
        self.redemptions = redemptions
        self.walkDays = walkDays
        self.steps = steps
        self.walkers = walkers
        self.walkersReaching8000 = walkersReaching8000
        self.rides = rides
        self.visits = visits
    }
}

/// The raw figures behind the beneficiary report for a period of local days, per measure (points
/// awarded, points redeemed, points expired back to their sponsors) and section (sponsor, rule, merchant), each with the distinct residents
/// behind it. Sponsor and rule figures of redemptions are traced through the lots they drew from.
public struct BeneficiaryFacts: Sendable, Hashable {
    public enum Measure: String, Sendable, Hashable, CaseIterable { case awarded, redeemed, expired }
    public enum Section: String, Sendable, Hashable, CaseIterable { case sponsor, rule, merchant }

    public struct Cell: Sendable, Hashable {
        public var points: Int64
        /// Distinct residents behind the points.
        public var residents: Int64

        public init(points: Int64, residents: Int64) {
            self.points = points
            self.residents = residents
        }

        public static let zero = Cell(points: 0, residents: 0)
    }

    /// Per measure: the program total.
    public var totals: [Measure: Cell]
    /// Per measure and section: row id → its cell. Only rows with points appear.
    public var cells: [Measure: [Section: [String: Cell]]]
    /// Per measure: which sponsor funded which rule in the period (for redemptions, through the lots
    /// drawn). A sponsor's figure is a sum over the rules it funds.
    public var links: [Measure: Set<Link>]

    public struct Link: Sendable, Hashable {
        public var rule: String
        public var sponsor: String

        public init(rule: String, sponsor: String) {
            self.rule = rule
            self.sponsor = sponsor
        }
    }

    /// Per measure and section: row id → the residents behind it (the store's own numbers for them,
    /// never shown), so the residents behind several rows together are counted without reading again.
    public var residents: [Measure: [Section: [String: Set<Int64>]]]

    public init(totals: [Measure: Cell], cells: [Measure: [Section: [String: Cell]]], links: [Measure: Set<Link>],
                residents: [Measure: [Section: [String: Set<Int64>]]] = [:]) {
        self.totals = totals
        self.cells = cells
        self.links = links
        self.residents = residents
    }

    /// Distinct residents behind the given rows of one section and measure, for the combined row of
    /// suppressed groups (resident counts of rows overlap, so they cannot be summed).
    public func residentCount(_ measure: Measure, _ section: Section, ids: [String]) -> Int64 {
        let sets = residents[measure]?[section] ?? [:]
        return Int64(ids.reduce(into: Set<Int64>()) { $0.formUnion(sets[$1] ?? []) }.count)
    }

    /// Merchants award nothing and expire nothing: those measures do not apply to that section.
    public static func applies(_ measure: Measure, to section: Section) -> Bool {
        !(measure != .redeemed && section == .merchant)
    }
}

/// What reports read, inside one read transaction (`ReportSource.readReports`).
public protocol ReportReader {
    /// Every movement of points on the local days `from...to`, grouped by kind, the rule and sponsor
    /// of the lot it moved, merchant, resident and (for refunds) whether the redemption was made
    /// before `from`; rules and sponsors no longer in the ruleset included.
    func ledgerMovements(from: LocalDate, to: LocalDate) throws -> [LedgerMovement]
    /// How many redemptions and refunds each merchant made on the local days `from...to`.
    func merchantCounts(from: LocalDate, to: LocalDate) throws -> [String: SettlementCounts]
    /// Every resident enrolled on or before `through`, in the order of the store's numbers for them.
    func enrolments(through: LocalDate) throws -> [Enrolment]
    /// Calls `body` with every accepted event of the local days `from...to` (from the first day the
    /// ledger holds when `from` is nil), in no order that means anything.
    func forEachActivity(from: LocalDate?, to: LocalDate, _ body: (Activity) throws -> Void) throws
    /// What the ledger moved for each resident on the local days `from...to`.
    func residentPoints(from: LocalDate, to: LocalDate) throws -> ResidentPoints
    /// Every stored event of an enrolled resident on the local days `from...to`, accepted or
    /// rejected, in the order it was recorded, with who sent it and when: what a backtest replays.
    func forEachStoredEvent(from: LocalDate, to: LocalDate, _ body: (StoredEvent) throws -> Void) throws
    /// Every award of the local days `from...to`, prizes of draws included, one call per sponsor's
    /// share, in the order written: what the ledger paid, beside a backtest's figures.
    func forEachAwardShare(from: LocalDate, to: LocalDate, _ body: (AwardShare) throws -> Void) throws
}

/// An event as stored, with its resident and its submitter, for a replay.
public struct StoredEvent: Sendable {
    public var event: Event
    /// Nil for events recorded before Ayumi kept who sent them.
    public var submitter: Submitter?
    public var resident: Resident
    public var receivedAt: Date

    public init(event: Event, submitter: Submitter?, resident: Resident, receivedAt: Date) {
        self.event = event
        self.submitter = submitter
        self.resident = resident
        self.receivedAt = receivedAt
    }
}

/// One sponsor's share of one award as the ledger holds it.
public struct AwardShare: Sendable {
    /// Identifies the award (the event and rule it was made for): shares of one award have the same.
    public var award: Int64
    /// The rule it was made under: `draw:ID` for a prize of a draw (`Award.drawRulePrefix`).
    public var ruleID: String
    public var resident: Resident
    public var sponsorID: String
    public var points: Int64
    public var capped: Bool
    public var day: LocalDate

    public init(award: Int64, ruleID: String, resident: Resident, sponsorID: String, points: Int64, capped: Bool, day: LocalDate) {
        self.award = award
        self.ruleID = ruleID
        self.resident = resident
        self.sponsorID = sponsorID
        self.points = points
        self.capped = capped
        self.day = day
    }
}

/// Points the ledger moved on some days, added up per group: what the beneficiary report's ledger
/// summary and the settlement read.
public struct LedgerMovement: Sendable, Hashable {
    public enum Kind: Sendable, Hashable, CaseIterable {
        /// From a sponsor to a resident: a lot.
        case awarded
        /// From a resident to a merchant, drawn from lots.
        case redeemed
        /// From a merchant back to the lots a redemption drew (or their sponsors).
        case refunded
        /// A lot's unspent points back to its sponsor.
        case expired
    }

    public var kind: Kind
    /// The rule and the sponsor of the lot the points came from (or went back to).
    public var rule: String
    public var sponsor: String
    /// The merchant of a redemption or refund.
    public var merchant: String?
    /// The store's number for the resident (never shown): the holder of the lot, the payer of the redemption.
    public var resident: Int64
    /// For a refund: its redemption was made before the period's first day.
    public var ofEarlierRedemption: Bool
    /// Positive.
    public var points: Int64

    public init(kind: Kind, rule: String, sponsor: String, merchant: String?, resident: Int64, ofEarlierRedemption: Bool = false, points: Int64) {
        self.kind = kind
        self.rule = rule
        self.sponsor = sponsor
        self.merchant = merchant
        self.resident = resident
        self.ofEarlierRedemption = ofEarlierRedemption
        self.points = points
    }
}

/// A resident as reports count them: the store's number for them (never shown) and the attributes
/// reports group by.
public struct Enrolment: Sendable, Hashable {
    public var resident: Int64
    public var birthYear: Int
    public var district: String
    public var enrolled: LocalDate

    public init(resident: Int64, birthYear: Int, district: String, enrolled: LocalDate) {
        self.resident = resident
        self.birthYear = birthYear
        self.district = district
        self.enrolled = enrolled
    }
}

/// One accepted event, as reports count it: whose (the store's number), which local day, and the
/// detail a report reads of it.
public struct Activity: Sendable, Hashable {
    public enum Detail: Sendable, Hashable {
        /// One report of a day's steps (a phone may report a day more than once).
        case walk(steps: Int64)
        case ride(mode: String)
        case visit(zone: String)
    }

    public var resident: Int64
    public var day: LocalDate
    public var detail: Detail

    public init(resident: Int64, day: LocalDate, detail: Detail) {
        self.resident = resident
        self.day = day
        self.detail = detail
    }
}

/// Points the ledger moved on some local days, per resident (the store's number): awarded to them,
/// drawn by their redemptions, given back by shops' refunds of their redemptions, and how many
/// redemptions they made. Residents with nothing moved are absent.
public struct ResidentPoints: Sendable, Hashable {
    public var awarded: [Int64: Int64]
    public var redeemed: [Int64: Int64]
    public var refunded: [Int64: Int64]
    public var redemptions: [Int64: Int64]

    public init(awarded: [Int64: Int64] = [:], redeemed: [Int64: Int64] = [:], refunded: [Int64: Int64] = [:],
                redemptions: [Int64: Int64] = [:]) {
        self.awarded = awarded
        self.redeemed = redeemed
        self.refunded = refunded
        self.redemptions = redemptions
    }
}

extension ReportSource {
    public func settlementFacts(from: LocalDate, to: LocalDate) async throws -> (facts: [SettlementFact], counts: [String: SettlementCounts]) {
        try await readReports { try $0.settlementFacts(from: from, to: to) }
    }

    public func beneficiaryFacts(from: LocalDate, to: LocalDate) async throws -> BeneficiaryFacts {
        try await readReports { try $0.beneficiaryFacts(from: from, to: to) }
    }

    /// The periods' indicators, from one state of the ledger.
    public func indicatorFacts(_ periods: [(from: LocalDate, to: LocalDate)], visitZones: [String]?) async throws -> [IndicatorFacts] {
        let list = periods.map { [$0.from, $0.to] }
        return try await readReports { reader in try reader.indicatorFacts(list.map { ($0[0], $0[1]) }, visitZones: visitZones) }
    }
}

/// What the beneficiary report counts of each enrolled resident (no identifier: the report needs
/// none) and of the walks over a period.
public struct ParticipantFacts: Sendable, Hashable {
    /// What a resident did over some days: walk days (each at its largest report) and their steps,
    /// accepted transit taps by mode, downtown visits.
    public struct Activity: Sendable, Hashable {
        public var walkDays: Int64 = 0
        public var steps: Int64 = 0
        public var rides: [String: Int64] = [:]
        public var visits: Int64 = 0

        public init(walkDays: Int64 = 0, steps: Int64 = 0, rides: [String: Int64] = [:], visits: Int64 = 0) {
            self.walkDays = walkDays
            self.steps = steps
            self.rides = rides
            self.visits = visits
        }

        public var rideCount: Int64 { rides.values.reduce(0, +) }
    }

    public struct Participant: Sendable, Hashable {
        public var birthYear: Int
        public var district: String
        public var enrolled: LocalDate
        /// At least one accepted event in the period.
        public var active: Bool
        /// Points awarded in the period, and redeemed in it less what shops refunded in it.
        public var pointsEarned: Int64
        public var pointsRedeemed: Int64
        /// Redeemed or was refunded in the period (as the ledger summary counts the residents behind
        /// redemptions), even when the two cancel out.
        public var redeemedAny = false
        /// In the first baseline days from enrolment (whether or not in the period).
        public var baseline: Activity
        /// In the period, after the baseline days, up to the last day measured.
        public var afterBaseline: Activity
        /// In the whole period.
        public var inPeriod: Activity

        public init(birthYear: Int, district: String, enrolled: LocalDate, active: Bool, pointsEarned: Int64, pointsRedeemed: Int64,
                    baseline: Activity = .init(), afterBaseline: Activity = .init(), inPeriod: Activity = .init()) {
            self.birthYear = birthYear
            self.district = district
            self.enrolled = enrolled
            self.active = active
            self.pointsEarned = pointsEarned
            self.pointsRedeemed = pointsRedeemed
            self.baseline = baseline
            self.afterBaseline = afterBaseline
            self.inPeriod = inPeriod
        }
    }

    /// Walks of the days `bucket × bucketDays` to `+ bucketDays − 1` from the period's first day, by
    /// walkers past their baseline days.
    public struct WalkBucket: Sendable, Hashable {
        public var bucket: Int
        public var walkDays: Int64
        public var steps: Int64
        public var walkers: Int64

        public init(bucket: Int, walkDays: Int64, steps: Int64, walkers: Int64) {
            self.bucket = bucket
            self.walkDays = walkDays
            self.steps = steps
            self.walkers = walkers
        }
    }

    /// In no particular order that means anything (the store's own).
    public var participants: [Participant]
    public var walkTrend: [WalkBucket]

    public init(participants: [Participant], walkTrend: [WalkBucket]) {
        self.participants = participants
        self.walkTrend = walkTrend
    }
}
