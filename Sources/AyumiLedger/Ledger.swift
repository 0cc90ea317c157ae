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

    /// The party's own id (a sponsor's, a resident's pseudonym, a merchant's).
    public var id: String {
        switch self {
        case .sponsor(let id), .resident(let id), .merchant(let id): id
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
    /// The lot a draw, a refund or an expiry moves points of (an award is a lot itself: nil).
    public var lot: Int64?

    public init(kind: Kind, debit: Account, credit: Account, amount: Int64, lot: Int64? = nil) {
        precondition(amount > 0, "a transfer moves a positive amount")
        precondition(debit != credit, "a transfer moves points between two accounts")
        precondition((kind == .award) == (lot == nil), "every movement but an award names its lot")
        self.kind = kind
        self.debit = debit
        self.credit = credit
        self.amount = amount
        self.lot = lot
    }

    /// The two legs, which always sum to zero.
    public var postings: [Posting] { [Posting(account: debit, points: -amount), Posting(account: credit, points: amount)] }

    /// What the transfer changes of its lot's remaining points: a draw or an expiry takes them out, a
    /// refund into the holder's hands puts them back; a refund to the lot's sponsor (a lot past its
    /// last day) leaves the lot as it is, as does an award (it is the lot).
    public var lotChange: Int64 {
        switch kind {
        case .award: 0
        case .redemption, .expiry: -amount
        case .refund: credit.kind == .resident ? amount : 0
        }
    }

    /// Points move from each funding sponsor to the resident: one transfer (one lot) per sponsor.
    public static func award(_ award: Award, residentID: String) -> [Transfer] {
        award.funding.map { Transfer(kind: .award, debit: .sponsor($0.sponsorID), credit: .resident(residentID), amount: $0.points) }
    }

    /// A redemption: one transfer per lot drawn, from the resident to the merchant.
    public static func redemption(_ draws: [LotDraw], residentID: String, merchantID: String) -> [Transfer] {
        draws.map { Transfer(kind: .redemption, debit: .resident(residentID), credit: .merchant(merchantID), amount: $0.points, lot: $0.lotID) }
    }

    /// A refund: one transfer per lot given back, from the merchant to the resident, or to the lot's
    /// sponsor for a lot past its last day.
    public static func refund(_ shares: [Refunds.Share], residentID: String, merchantID: String) -> [Transfer] {
        shares.map { share in
            Transfer(kind: .refund, debit: .merchant(merchantID), credit: share.toSponsor ? .sponsor(share.sponsorID) : .resident(residentID),
                     amount: share.points, lot: share.lotID)
        }
    }

    /// A lot's unspent points back from its holder to its sponsor.
    public static func expiry(lot: Int64, points: Int64, residentID: String, sponsorID: String) -> Transfer {
        Transfer(kind: .expiry, debit: .resident(residentID), credit: .sponsor(sponsorID), amount: points, lot: lot)
    }
}
