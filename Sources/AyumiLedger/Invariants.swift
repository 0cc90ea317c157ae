/// What the store measured of the whole ledger; `violations` turns it into findings. The store
/// computes these with aggregate queries so a verify of millions of postings stays in SQL.
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

    public init(transferCount: Int64, unbalancedTransfers: [(Int64, Int64)], balanceMismatches: [(String, Int64, Int64)],
                negativeResidentBalances: [(String, Int64)], lotMismatches: [(String, Int64, Int64)]) {
        self.transferCount = transferCount
        self.unbalancedTransfers = unbalancedTransfers
        self.balanceMismatches = balanceMismatches
        self.negativeResidentBalances = negativeResidentBalances
        self.lotMismatches = lotMismatches
    }

    public var violations: [String] {
        unbalancedTransfers.map { "transfer \($0.0) sums to \($0.1), not 0" }
            + balanceMismatches.map { "\($0.0): balance \($0.1) but postings sum to \($0.2)" }
            + negativeResidentBalances.map { "\($0.0): negative balance \($0.1)" }
            + lotMismatches.map { "\($0.0): balance \($0.1) but open lots hold \($0.2)" }
    }

}
