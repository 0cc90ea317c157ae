/// What the store measured of the whole ledger; `violations` turns it into findings. The store
/// computes these with aggregate queries so a verify of millions of postings stays in SQL. Each
/// list holds at most the first 100 findings of its kind.
public struct LedgerAudit: Sendable {
    public var transferCount: Int64
    /// Transfers whose postings do not sum to zero: (transfer id, sum).
    public var unbalancedTransfers: [(Int64, Int64)]
    /// Accounts whose cached balance differs from the sum of their postings: (account, balance, sum).
    public var balanceMismatches: [(String, Int64, Int64)]
    /// Residents with a negative balance: (account, balance).
    public var negativeResidentBalances: [(String, Int64)]
    /// Residents whose open lots do not add up to their balance: (account, balance, lots).
    public var lotMismatches: [(String, Int64, Int64)]
    /// Awards whose lots do not hold exactly the awarded points: (transfer id, points, lots).
    public var awardLotMismatches: [(Int64, Int64, Int64)]
    /// Redemptions whose lot draws do not add up to the redeemed points: (redemption id, points, drawn).
    public var redemptionDrawMismatches: [(Int64, Int64, Int64)]
    /// Draws from a lot on a day after its last day: (redemption id, lot id, redeemed on, last day).
    public var drawsPastExpiry: [(Int64, Int64, String, String)]
    /// Lots whose remaining points are not their original points less their draws:
    /// (lot id, original, remaining, drawn). Points moved between two lots would bill the wrong sponsor.
    public var lotRemainderMismatches: [(Int64, Int64, Int64, Int64)]
    /// Draws attributed to another sponsor than their lot's: (redemption id, lot id, draw's sponsor, lot's sponsor).
    public var drawSponsorMismatches: [(Int64, Int64, String, String)]

    public init(transferCount: Int64, unbalancedTransfers: [(Int64, Int64)] = [], balanceMismatches: [(String, Int64, Int64)] = [],
                negativeResidentBalances: [(String, Int64)] = [], lotMismatches: [(String, Int64, Int64)] = [],
                awardLotMismatches: [(Int64, Int64, Int64)] = [], redemptionDrawMismatches: [(Int64, Int64, Int64)] = [],
                drawsPastExpiry: [(Int64, Int64, String, String)] = [], lotRemainderMismatches: [(Int64, Int64, Int64, Int64)] = [],
                drawSponsorMismatches: [(Int64, Int64, String, String)] = []) {
        self.transferCount = transferCount
        self.unbalancedTransfers = unbalancedTransfers
        self.balanceMismatches = balanceMismatches
        self.negativeResidentBalances = negativeResidentBalances
        self.lotMismatches = lotMismatches
        self.awardLotMismatches = awardLotMismatches
        self.redemptionDrawMismatches = redemptionDrawMismatches
        self.drawsPastExpiry = drawsPastExpiry
        self.lotRemainderMismatches = lotRemainderMismatches
        self.drawSponsorMismatches = drawSponsorMismatches
    }

    /// At most this many findings of each kind are listed.
    public static let findingsPerKindMax = 100

    public var violations: [String] {
        unbalancedTransfers.map { "transfer \($0.0) sums to \($0.1), not 0" }
            + balanceMismatches.map { "\($0.0): balance \($0.1) but postings sum to \($0.2)" }
            + negativeResidentBalances.map { "\($0.0): negative balance \($0.1)" }
            + lotMismatches.map { "\($0.0): balance \($0.1) but open lots hold \($0.2)" }
            + awardLotMismatches.map { "award transfer \($0.0): \($0.1) points but its lots hold \($0.2)" }
            + redemptionDrawMismatches.map { "redemption \($0.0): \($0.1) points but its lot draws sum to \($0.2)" }
            + drawsPastExpiry.map { "redemption \($0.0) on \($0.2) drew lot \($0.1), whose last day was \($0.3)" }
            + lotRemainderMismatches.map { "lot \($0.0): \($0.1) points less \($0.3) drawn is not the \($0.2) it holds" }
            + drawSponsorMismatches.map { "redemption \($0.0) drew lot \($0.1) of \($0.3) but names \($0.2) as its sponsor" }
    }
}
