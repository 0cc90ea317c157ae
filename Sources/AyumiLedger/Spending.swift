import AyumiCore

/// What a redemption may take, decided in pure code: a store loads the resident's lots and what the
/// shop took today, asks `Spending.plan`, and writes the draws it returns in the same transaction.
/// No store repeats this policy in its own query language.
public enum Spending {
    /// A shop's own limits from `Merchants/` (nil: none).
    public struct Limits: Sendable, Hashable {
        public var pointsPerDay: Int64?
        public var pointsPerResidentPerDay: Int64?

        public init(pointsPerDay: Int64?, pointsPerResidentPerDay: Int64?) {
            self.pointsPerDay = pointsPerDay
            self.pointsPerResidentPerDay = pointsPerResidentPerDay
        }
    }

    /// Points a shop took on a day, each redemption less what was refunded of it: from everyone, and
    /// from the resident who is paying.
    public struct TakenToday: Sendable, Hashable {
        public var points: Int64
        public var fromResident: Int64

        public init(points: Int64, fromResident: Int64) {
            self.points = points
            self.fromResident = fromResident
        }

        /// What the shop's redemptions of the day count against its limits: each less what shops
        /// refunded of it since.
        public init(_ redemptions: [DayRedemption]) {
            points = redemptions.reduce(0) { $0 + $1.points - $1.refunded }
            fromResident = redemptions.filter(\.fromResident).reduce(0) { $0 + $1.points - $1.refunded }
        }
    }

    /// One redemption a shop made on a day: its points, what was refunded of them since, and whether
    /// the resident paying now made it.
    public struct DayRedemption: Sendable, Hashable {
        public var points: Int64
        public var refunded: Int64
        public var fromResident: Bool

        public init(points: Int64, refunded: Int64, fromResident: Bool) {
            self.points = points
            self.refunded = refunded
            self.fromResident = fromResident
        }
    }

    public enum Refusal: Error, Sendable, Hashable {
        /// The shop's limit for the day; `left` is what it may still take (never negative).
        case merchantDailyLimit(left: Int64)
        case residentDailyLimitAtMerchant(left: Int64)
        /// The resident's spendable points fall short; `balance` is what they can spend.
        case insufficientPoints(balance: Int64)
    }

    /// The shop's limits first (the shop's, then the one per resident), then the lots, first to
    /// expire first spent (`Lots.draw`).
    public static func plan(_ points: Int64, from lots: [Lot], on day: LocalDate, limits: Limits,
                            taken: TakenToday) -> Result<[LotDraw], Refusal> {
        precondition(points > 0, "the edge rejects amounts that are not positive")
        if let max = limits.pointsPerDay, points > max - taken.points {
            return .failure(.merchantDailyLimit(left: Swift.max(0, max - taken.points)))
        }
        if let max = limits.pointsPerResidentPerDay, points > max - taken.fromResident {
            return .failure(.residentDailyLimitAtMerchant(left: Swift.max(0, max - taken.fromResident)))
        }
        guard let draws = Lots.draw(points, from: lots, on: day) else {
            return .failure(.insufficientPoints(balance: Lots.spendable(lots, on: day)))
        }
        return .success(draws)
    }
}

/// What a refund gives back, decided in pure code from what the redemption drew from each lot.
public enum Refunds {
    /// One lot a redemption drew from: how much, and how much refunds have given back to it since.
    public struct DrawnLot: Sendable, Hashable {
        public var lotID: Int64
        public var sponsorID: String
        public var expiresOn: LocalDate
        public var drawn: Int64
        public var refunded: Int64

        public init(lotID: Int64, sponsorID: String, expiresOn: LocalDate, drawn: Int64, refunded: Int64) {
            precondition(drawn > 0 && refunded >= 0 && refunded <= drawn, "a lot gets back at most what was drawn from it")
            self.lotID = lotID
            self.sponsorID = sponsorID
            self.expiresOn = expiresOn
            self.drawn = drawn
            self.refunded = refunded
        }
    }

    /// Points going back to one lot: to its holder, or to its sponsor when the lot is past its last
    /// day (as expiry would have returned them).
    public struct Share: Sendable, Hashable {
        public var lotID: Int64
        public var sponsorID: String
        public var points: Int64
        public var toSponsor: Bool

        public init(lotID: Int64, sponsorID: String, points: Int64, toSponsor: Bool) {
            self.lotID = lotID
            self.sponsorID = sponsorID
            self.points = points
            self.toSponsor = toSponsor
        }
    }

    public enum Refusal: Error, Sendable, Hashable {
        /// The redemption is older than the program's refund window.
        case tooLate(daysMax: Int)
        /// More than is left to refund, or nothing: `refundable` is what is left.
        case exceedsRedemption(refundable: Int64)
    }

    /// What the redemption has left to refund.
    public static func refundable(_ lots: [DrawnLot]) -> Int64 {
        lots.reduce(0) { $0 + $1.drawn - $1.refunded }
    }

    /// Gives back `points` (nil: all that is left) of a redemption made on `redeemedOn`, on `day`: the
    /// lots that expire latest first (among lots expiring the same day, the newest), so a partial
    /// refund gives back the points that would live longest; never more to a lot than was drawn
    /// from it, over any number of refunds.
    public static func allocate(_ points: Int64?, of lots: [DrawnLot], redeemedOn: LocalDate, on day: LocalDate,
                                refundDaysMax: Int) -> Result<[Share], Refusal> {
        guard day.dayNumber - redeemedOn.dayNumber <= refundDaysMax else { return .failure(.tooLate(daysMax: refundDaysMax)) }
        let refundable = refundable(lots)
        let points = points ?? refundable
        guard points > 0, points <= refundable else { return .failure(.exceedsRedemption(refundable: refundable)) }
        var left = points
        var shares: [Share] = []
        for lot in lots.sorted(by: { ($0.expiresOn, $0.lotID) > ($1.expiresOn, $1.lotID) }) where left > 0 {
            let take = min(left, lot.drawn - lot.refunded)
            guard take > 0 else { continue }
            left -= take
            shares.append(Share(lotID: lot.lotID, sponsorID: lot.sponsorID, points: take, toSponsor: lot.expiresOn < day))
        }
        return .success(shares)
    }
}
