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
}

public struct Posting: Sendable, Hashable {
    public var account: Account
    /// Positive: points into the account; negative: points out of it.
    public var points: Int64

    public init(account: Account, points: Int64) {
        self.account = account
        self.points = points
    }
}

/// One movement of points. Its postings always sum to zero; it is never edited after it is written,
/// and a correction is a new, reversing transfer.
public struct Transfer: Sendable, Hashable {
    public enum Kind: String, Sendable, Codable {
        case award, redemption
    }

    public var kind: Kind
    public var postings: [Posting]

    public init(kind: Kind, postings: [Posting]) {
        precondition(postings.reduce(0) { $0 + $1.points } == 0, "a transfer must sum to zero")
        precondition(!postings.isEmpty)
        self.kind = kind
        self.postings = postings
    }

    /// Points move from each funding sponsor to the resident.
    public static func award(_ award: Award, residentID: String) -> Transfer {
        var postings = award.funding.map { Posting(account: .sponsor($0.sponsorID), points: -$0.points) }
        postings.append(Posting(account: .resident(residentID), points: award.points))
        return Transfer(kind: .award, postings: postings)
    }

    public static func redemption(residentID: String, merchantID: String, points: Int64) -> Transfer {
        precondition(points > 0)
        return Transfer(kind: .redemption, postings: [
            Posting(account: .resident(residentID), points: -points),
            Posting(account: .merchant(merchantID), points: points),
        ])
    }
}
