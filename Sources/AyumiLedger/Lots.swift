import AyumiCore

/// Points a resident received from one sponsor in one award, with the day they expire. Spending
/// draws from lots, so every redeemed point is traced to the sponsor who funded it.
public struct Lot: Sendable, Hashable {
    public var id: Int64
    public var sponsorID: String
    public var pointsRemaining: Int64
    public var expiresOn: LocalDate
    /// The first day the points can be spent: nil for points paid at once, a later day for points
    /// held as pending (a rule's `pendingDays`).
    public var availableOn: LocalDate?

    public init(id: Int64, sponsorID: String, pointsRemaining: Int64, expiresOn: LocalDate, availableOn: LocalDate? = nil) {
        self.id = id
        self.sponsorID = sponsorID
        self.pointsRemaining = pointsRemaining
        self.expiresOn = expiresOn
        self.availableOn = availableOn
    }

    /// Whether the lot can be spent on `day`: released and not past its last day.
    public func spendable(on day: LocalDate) -> Bool { expiresOn >= day && (availableOn.map { $0 <= day } ?? true) }
}

public struct LotDraw: Sendable, Hashable {
    public var lotID: Int64
    public var sponsorID: String
    public var points: Int64

    public init(lotID: Int64, sponsorID: String, points: Int64) {
        self.lotID = lotID
        self.sponsorID = sponsorID
        self.points = points
    }
}

public enum Lots {
    /// Points that can be spent on `day`: lots released by then whose last day is `day` or later.
    public static func spendable(_ lots: [Lot], on day: LocalDate) -> Int64 {
        lots.filter { $0.spendable(on: day) }.reduce(0) { $0 + $1.pointsRemaining }
    }

    /// First to expire, first spent; among lots expiring the same day, the oldest first. Lots
    /// past their last day are not spent, even before the expiry job has returned them, nor lots
    /// still pending.
    /// Returns nil when the spendable lots hold fewer than `points`.
    public static func draw(_ points: Int64, from lots: [Lot], on day: LocalDate) -> [LotDraw]? {
        precondition(points > 0)
        var left = points
        var draws: [LotDraw] = []
        for lot in lots.sorted(by: { ($0.expiresOn, $0.id) < ($1.expiresOn, $1.id) })
        where left > 0 && lot.pointsRemaining > 0 && lot.spendable(on: day) {
            let taken = min(left, lot.pointsRemaining)
            draws.append(LotDraw(lotID: lot.id, sponsorID: lot.sponsorID, points: taken))
            left -= taken
        }
        return left == 0 ? draws : nil
    }

    /// A resident's points as the till and the app show them, from the lots that still hold points:
    /// spendable on `day` (`Lot.spendable`), held as pending, past their last day, and the spendable
    /// points whose last day comes within `Balance.expiringDays`, by last day.
    public static func balance(_ lots: [Lot], on day: LocalDate) -> Balance {
        var balance = Balance(spendable: 0, pastExpiry: 0)
        var expiring: [LocalDate: Int64] = [:]
        for lot in lots where lot.pointsRemaining > 0 {
            if lot.expiresOn < day {
                balance.pastExpiry += lot.pointsRemaining
            } else if !lot.spendable(on: day) {
                balance.pending += lot.pointsRemaining
            } else {
                balance.spendable += lot.pointsRemaining
                if lot.expiresOn.dayNumber < day.dayNumber + Balance.expiringDays { expiring[lot.expiresOn, default: 0] += lot.pointsRemaining }
            }
        }
        balance.expiring = expiring.keys.sorted().map { ExpiringPoints(lastDay: $0, points: expiring[$0]!) }
        return balance
    }

    /// The day a lot's unspent points go back to its sponsor: the first day they can no longer be spent.
    public static func returnDay(lastDay: LocalDate) -> LocalDate { lastDay.adding(days: 1) }

    /// The day points earned on `earnedOn` expire: the last day they can still be spent.
    public static func expiry(earnedOn: LocalDate, months: Int) -> LocalDate {
        earnedOn.adding(months: months).adding(days: -1)
    }
}

/// Points a resident holds, as the till will see them.
public struct Balance: Sendable, Hashable {
    /// What can be redeemed today.
    public var spendable: Int64
    /// Past their last day, no longer spendable, not yet returned to their sponsors by the expiry job.
    public var pastExpiry: Int64
    /// Awarded but held as pending: visible, not spendable until their release day.
    public var pending: Int64
    /// Spendable points whose last day is within the next `Balance.expiringDays` days, by last day,
    /// soonest first.
    public var expiring: [ExpiringPoints]

    /// How far ahead the balance warns of expiry.
    public static let expiringDays = 30

    public init(spendable: Int64, pastExpiry: Int64, pending: Int64 = 0, expiring: [ExpiringPoints] = []) {
        self.spendable = spendable
        self.pastExpiry = pastExpiry
        self.pending = pending
        self.expiring = expiring
    }
}

/// Points that can be spent up to and including `lastDay`, and not after.
public struct ExpiringPoints: Sendable, Hashable {
    public var lastDay: LocalDate
    public var points: Int64

    public init(lastDay: LocalDate, points: Int64) {
        self.lastDay = lastDay
        self.points = points
    }
}
