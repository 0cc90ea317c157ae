import AyumiCore

/// An account of the double-entry ledger. Sponsors fund points (their balance goes negative by what
/// they have funded); residents hold points; merchants receive them when they redeem.
public enum Account: Sendable, Hashable, Comparable, CustomStringConvertible {
    case sponsor(String)
    case resident(String)
    case merchant(String)

    /// Stored form: `sponsor:city-health`, `resident:r-123`, `merchant:m-001`.
    public var description: String {
        switch self {
        case .sponsor(let id): "sponsor:\(id)"
        case .resident(let id): "resident:\(id)"
        case .merchant(let id): "merchant:\(id)"
        }
    }

    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let id = String(text[text.index(after: colon)...])
        switch text[..<colon] {
        case "sponsor": self = .sponsor(id)
        case "resident": self = .resident(id)
        case "merchant": self = .merchant(id)
        default: return nil
        }
    }

    public static func < (lhs: Account, rhs: Account) -> Bool { lhs.description < rhs.description }

    /// The kinds of account, with the number every store keeps for each: part of the stored format,
    /// never renumbered.
    public enum Kind: Int64, Sendable, Hashable, CaseIterable {
        case sponsor = 1, resident = 2, merchant = 3

        public var code: Int64 { rawValue }
    }

    public var kind: Kind {
        switch self {
        case .sponsor: .sponsor
        case .resident: .resident
        case .merchant: .merchant
        }
    }
}

/// One leg of a transfer, as audit views show it: points into (positive) or out of (negative) an account.
public struct Posting: Sendable, Hashable {
    public var account: Account
    public var points: Int64

    public init(account: Account, points: Int64) {
        self.account = account
        self.points = points
    }
}

/// One movement of points, in one row as TigerBeetle keeps it: from the debit account to the
/// credit account, a positive amount, and its cause. Its two postings sum to zero by its shape; it
/// is never edited after it is written, and a correction is a new, reversing transfer. An award
/// funded by two sponsors is two transfers; a redemption drawing two lots is two transfers.
public struct Transfer: Sendable, Hashable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Points from a sponsor to a resident: a lot, with the points left in it and its last day.
        case award
        /// Points from a resident to a merchant, drawn from one lot.
        case redemption
        /// Points from a merchant back to the lot a redemption drew from, or to the lot's sponsor
        /// when the lot is past its last day.
        case refund
        /// A lot's unspent points from its holder back to its sponsor, the day after its last day.
        case expiry

        /// The number every store keeps for the kind: part of the stored format, never renumbered.
        public var code: Int64 {
            switch self {
            case .award: 1
            case .redemption: 2
            case .refund: 3
            case .expiry: 4
            }
        }

        public init?(code: Int64) {
            guard let kind = Self.allCases.first(where: { $0.code == code }) else { return nil }
            self = kind
        }
    }

    public var kind: Kind
    public var debit: Account
    public var credit: Account
    public var amount: Int64

    public init(kind: Kind, debit: Account, credit: Account, amount: Int64) {
        precondition(amount > 0, "a transfer moves a positive amount")
        precondition(debit != credit, "a transfer moves points between two accounts")
        self.kind = kind
        self.debit = debit
        self.credit = credit
        self.amount = amount
    }

    /// The two legs, which always sum to zero.
    public var postings: [Posting] { [Posting(account: debit, points: -amount), Posting(account: credit, points: amount)] }

    /// Points move from each funding sponsor to the resident: one transfer (one lot) per sponsor.
    public static func award(_ award: Award, residentID: String) -> [Transfer] {
        award.funding.map { Transfer(kind: .award, debit: .sponsor($0.sponsorID), credit: .resident(residentID), amount: $0.points) }
    }
}
