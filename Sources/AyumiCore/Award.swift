/// The outcome of one event under the ruleset: the awards, or the reason there are none. Made by
/// the rules engine, recorded by the store; a value of the core so that neither imports the other.
public struct Evaluation: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        case accepted(awards: [Award], note: LocalizedText?)
        case rejected(LocalizedText)
    }

    public var outcome: Outcome

    public init(outcome: Outcome) {
        self.outcome = outcome
    }
}

/// Points one rule grants for one event, with who funds them and why. Produced by the rules engine,
/// recorded by the ledger as one transfer from the sponsors to the resident.
public struct Award: Sendable, Hashable {
    public var ruleID: String
    public var rulesetVersion: String
    public var points: Int64
    /// Points per sponsor; always sums to `points` (largest remainder split).
    public var funding: [SponsorShare]
    public var reason: LocalizedText
    /// The counter period this award counts against: the day number of its local day.
    public var period: Int
    /// The rule's caps for the period, which the store enforces again as it adds the award to the
    /// counter (`points + award <= max`), so two writers can never both take the last point.
    public var limit: CounterLimit

    public init(ruleID: String, rulesetVersion: String, points: Int64, funding: [SponsorShare],
                reason: LocalizedText, period: Int, limit: CounterLimit = .none) {
        precondition(points > 0, "an award of no points is not recorded")
        precondition(funding.reduce(0) { $0 + $1.points } == points, "funding must add up to the award")
        self.ruleID = ruleID
        self.rulesetVersion = rulesetVersion
        self.points = points
        self.funding = funding
        self.reason = reason
        self.period = period
        self.limit = limit
    }
}

/// The most a counter may reach: points and number of awards per period (nil: no cap).
public struct CounterLimit: Sendable, Hashable {
    public var pointsMax: Int64?
    public var countMax: Int64?

    public init(pointsMax: Int64?, countMax: Int64?) {
        self.pointsMax = pointsMax
        self.countMax = countMax
    }

    public static let none = CounterLimit(pointsMax: nil, countMax: nil)
}

public struct SponsorShare: Sendable, Hashable, Codable {
    public var sponsorID: String
    public var points: Int64

    public init(sponsorID: String, points: Int64) {
        self.sponsorID = sponsorID
        self.points = points
    }
}

/// What one rule has already granted a resident in one period: the input for caps and for the
/// walk difference (a later, larger step count for a day awards only what the earlier did not).
public struct Counter: Sendable, Hashable {
    public var points: Int64
    public var count: Int64

    public init(points: Int64 = 0, count: Int64 = 0) {
        self.points = points
        self.count = count
    }

    public static let zero = Counter()
}

public struct CounterKey: Sendable, Hashable {
    public var residentID: String
    public var ruleID: String
    /// The day number of the local day (daily caps).
    public var period: Int

    public init(residentID: String, ruleID: String, period: Int) {
        self.residentID = residentID
        self.ruleID = ruleID
        self.period = period
    }
}
