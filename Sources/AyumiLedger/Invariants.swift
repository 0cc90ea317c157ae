/// What the store measured of the whole ledger; `violations` turns it into findings. The store
/// computes these with aggregate queries so a verify of millions of transfers stays in SQL. Each
/// list holds at most the first `findingsPerKindMax` findings of its kind.
///
/// A transfer is one row (debit, credit, a positive amount), so each sums to zero by its shape;
/// what can still go wrong is what this checks.
public struct LedgerAudit: Sendable {
    public var transferCount: Int64
    /// Accounts whose balance differs from what their transfers add up to: (account, balance, sum).
    public var balanceMismatches: [(String, Int64, Int64)]
    /// Residents with a negative balance: (account, balance).
    public var negativeResidentBalances: [(String, Int64)]
    /// Residents whose open lots do not add up to their balance: (account, balance, lots).
    public var lotMismatches: [(String, Int64, Int64)]
    /// Lots whose remaining points are not their points less their draws and expiries, plus the
    /// refunds given back into them: (lot, points, remaining, drawn and expired less refunded). Points moved between two lots
    /// would bill the wrong sponsor.
    public var lotRemainderMismatches: [(Int64, Int64, Int64, Int64)]
    /// Redemptions whose lot draws do not add up to the redeemed points: (redemption id, points, drawn).
    public var redemptionDrawMismatches: [(Int64, Int64, Int64)]
    /// Draws from a lot on a day after its last day: (redemption id, lot id, redeemed on, last day).
    public var drawsPastExpiry: [(Int64, Int64, String, String)]
    /// Draws from a lot of another resident than the one paying: (redemption id, lot id, payer, lot's holder).
    public var drawsFromOthersLots: [(Int64, Int64, String, String)]
    /// Draws that do not move points from the redemption's resident to its merchant, or that name as
    /// their lot something other than an award: (redemption id, transfer id).
    public var drawsAstray: [(Int64, Int64)]
    /// Refunds whose transfers do not add up to the refunded points: (refund id, points, transfers).
    public var refundMismatches: [(Int64, Int64, Int64)] = []
    /// Redemptions refunded more than they took: (redemption id, points, refunded).
    public var refundsExceeding: [(Int64, Int64, Int64)] = []
    /// Refund transfers that do not move points from the redemption's merchant back into a lot the
    /// redemption drew (or to that lot's sponsor), or more than it drew: (refund id, transfer id).
    public var refundsAstray: [(Int64, Int64)] = []
    /// Expiries that do not return a lot's points from its holder to its sponsor after its last day:
    /// (lot id, transfer id).
    public var expiriesAstray: [(Int64, Int64)] = []

    public init(transferCount: Int64, balanceMismatches: [(String, Int64, Int64)] = [], negativeResidentBalances: [(String, Int64)] = [],
                lotMismatches: [(String, Int64, Int64)] = [], lotRemainderMismatches: [(Int64, Int64, Int64, Int64)] = [],
                redemptionDrawMismatches: [(Int64, Int64, Int64)] = [], drawsPastExpiry: [(Int64, Int64, String, String)] = [],
                drawsFromOthersLots: [(Int64, Int64, String, String)] = [], drawsAstray: [(Int64, Int64)] = []) {
        self.transferCount = transferCount
        self.balanceMismatches = balanceMismatches
        self.negativeResidentBalances = negativeResidentBalances
        self.lotMismatches = lotMismatches
        self.lotRemainderMismatches = lotRemainderMismatches
        self.redemptionDrawMismatches = redemptionDrawMismatches
        self.drawsPastExpiry = drawsPastExpiry
        self.drawsFromOthersLots = drawsFromOthersLots
        self.drawsAstray = drawsAstray
    }

    /// At most this many findings of each kind are listed.
    public static let findingsPerKindMax = 100

    public var violations: [String] {
        balanceMismatches.map { "\($0.0): balance \($0.1) but its transfers sum to \($0.2)" }
            + negativeResidentBalances.map { "\($0.0): negative balance \($0.1)" }
            + lotMismatches.map { "\($0.0): balance \($0.1) but open lots hold \($0.2)" }
            + lotRemainderMismatches.map { "lot \($0.0): \($0.1) points less \($0.3) drawn or expired is not the \($0.2) it holds" }
            + redemptionDrawMismatches.map { "redemption \($0.0): \($0.1) points but its lot draws sum to \($0.2)" }
            + drawsPastExpiry.map { "redemption \($0.0) on \($0.2) drew lot \($0.1), whose last day was \($0.3)" }
            + drawsFromOthersLots.map { "redemption \($0.0) by \($0.2) drew lot \($0.1) of \($0.3)" }
            + drawsAstray.map { "redemption \($0.0): transfer \($0.1) does not move its points from its resident's lot to its merchant" }
            + refundMismatches.map { "refund \($0.0): \($0.1) points but its transfers sum to \($0.2)" }
            + refundsExceeding.map { "redemption \($0.0): \($0.1) points but \($0.2) refunded" }
            + refundsAstray.map { "refund \($0.0): transfer \($0.1) does not move its points from the merchant back to a lot the redemption drew" }
            + expiriesAstray.map { "lot \($0.0): expiry \($0.1) does not return its points from its holder to its sponsor after its last day" }
    }
}
