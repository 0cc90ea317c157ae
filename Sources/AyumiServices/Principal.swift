import AyumiCore

/// Who made a request, from the bearer token they presented.
public struct Principal: Sendable, Hashable {
    public var role: Role
    /// The resident or merchant the token speaks for.
    public var subject: String?
    /// The feed name of an ingest token.
    public var feed: String?
    /// The token's id (as `ayumi tokens list` shows it): who did what, for audit records.
    public var tokenID: Int64?

    public init(role: Role, subject: String?, feed: String? = nil, tokenID: Int64? = nil) {
        self.role = role
        self.subject = subject
        self.feed = feed
        self.tokenID = tokenID
    }

    /// Who events sent with this token come from; nil for roles that submit no events.
    public var submitter: Submitter? {
        switch role {
        case .resident: subject.map(Submitter.resident)
        case .ingest: feed.map(Submitter.feed)
        case .admin, .merchant: nil
        }
    }
}
