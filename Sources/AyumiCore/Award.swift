/// The outcome of one event under the ruleset: the awards, or the reason there are none, and the
/// counter changes the awards need. Made by the rules engine, recorded by the store; a value of the
/// core so that neither imports the other.
public struct Evaluation: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        case accepted(awards: [Award], note: LocalizedText?)
        case rejected(LocalizedText)
    }

    public var outcome: Outcome
    /// What the awards add to counters (caps, the walk difference, funding carried between
    /// awards), each with the most the counter may then hold. The store applies them guarded in
    /// the transaction that records the awards; empty when nothing is awarded.
    public var deltas: [CounterDelta]

    public init(outcome: Outcome, deltas: [CounterDelta] = []) {
        self.outcome = outcome
        self.deltas = deltas
    }
}

/// Points one rule grants for one event, with who funds them and why. Produced by the rules engine,
/// recorded by the ledger as one transfer from the sponsors to the resident.
public struct Award: Sendable, Hashable {
    /// The ledger's rule name for prizes of draws: `draw:` and the draw's id. No earning rule's id
    /// may begin with it, and no ruleset makes such awards from events.
    public static let drawRulePrefix = "draw:"

    public var ruleID: String
    public var rulesetVersion: String
    public var points: Int64
    /// Points per sponsor; always sums to `points`.
    public var funding: [SponsorShare]
    public var reason: LocalizedText
    /// What reduced this award (nil: paid in full): the position of the limit in its rule's
    /// `limits`, or −1 − the position of a sponsor's budget among all budgets of `sponsors.yaml`.
    /// Stored with the award, so history says "capped at 5 points a day" later too.
    public var cappedBy: Int?

    /// The first day the points may be spent, when they are held as pending until then (visible,
    /// not spendable): a rule's `pendingDays`, or a budget with `onExhausted: pend`. Nil: at once.
    public var availableOn: LocalDate? = nil

    /// `cappedBy` of an award reduced by a budget of the ruleset in force when it was made, not of
    /// the award's own (older) version: a late event's award.
    public static let cappedByBudgetOfAnotherVersion = -1_000_000

    public init(ruleID: String, rulesetVersion: String, points: Int64, funding: [SponsorShare],
                reason: LocalizedText, cappedBy: Int? = nil, availableOn: LocalDate? = nil) {
        precondition(points > 0, "an award of no points is not recorded")
        precondition(funding.reduce(0) { $0 + $1.points } == points, "funding must add up to the award")
        self.ruleID = ruleID
        self.rulesetVersion = rulesetVersion
        self.points = points
        self.funding = funding
        self.reason = reason
        self.cappedBy = cappedBy
        self.availableOn = availableOn
    }
}

public struct SponsorShare: Sendable, Hashable, Codable {
    public var sponsorID: String
    public var points: Int64

    public init(sponsorID: String, points: Int64) {
        self.sponsorID = sponsorID
        self.points = points
    }
}

/// What a counter holds: points and number of awards added to it in its period.
public struct Counter: Sendable, Hashable {
    public var points: Int64
    public var count: Int64

    public init(points: Int64 = 0, count: Int64 = 0) {
        self.points = points
        self.count = count
    }

    public static let zero = Counter()
}

/// One running total the rules keep: what one rule granted one resident today (daily caps, the
/// walk difference), this ISO week or month, what it granted everyone together, or what each
/// sponsor has funded of it (the funding carried between awards). The rules engine names the
/// counters it reads and writes; the store keeps them without knowing what they are for.
public struct CounterKey: Sendable, Hashable {
    public enum Subject: Sendable, Hashable {
        case resident(String)
        case sponsor(String)
        /// Everyone together.
        case program
    }

    public var subject: Subject
    /// Chosen by the rules engine: the rule id for a resident's daily counter, `rule/week`, …
    public var name: String
    /// A number for the period within the name's kind of period: a day number, the day number of
    /// an ISO week's Monday, `year × 12 + month − 1`, or 0 for the whole program.
    public var period: Int

    public init(subject: Subject, name: String, period: Int) {
        self.subject = subject
        self.name = name
        self.period = period
    }
}

/// An addition to one counter, and the most the counter may hold after it (nil: no bound). The
/// store adds it in the statement, guarded (`points + delta <= max`), never as a value computed
/// from an earlier read, so two writers can never both take the last point of a cap.
public struct CounterDelta: Sendable, Hashable {
    public var key: CounterKey
    public var points: Int64
    public var count: Int64
    public var pointsMax: Int64?
    public var countMax: Int64?

    public init(key: CounterKey, points: Int64, count: Int64, pointsMax: Int64? = nil, countMax: Int64? = nil) {
        self.key = key
        self.points = points
        self.count = count
        self.pointsMax = pointsMax
        self.countMax = countMax
    }
}
