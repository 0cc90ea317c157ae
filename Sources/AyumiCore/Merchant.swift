/// A shop that accepts points. The settlement reference names the account the city pays into;
/// the account details themselves stay in the city's payment system.
public struct Merchant: Sendable, Hashable, Codable {
    public var id: String
    public var name: LocalizedText
    public var category: String
    public var zoneID: String
    public var settlementAccount: String

    public init(id: String, name: LocalizedText, category: String, zoneID: String, settlementAccount: String) {
        self.id = id
        self.name = name
        self.category = category
        self.zoneID = zoneID
        self.settlementAccount = settlementAccount
    }
}

/// Who a bearer token speaks for. Tokens are stored only as SHA-256 hashes.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// The city's administrators: enrol residents, read reports.
    case admin
    /// A trusted feed (transit operator, step-data gateway): submits anyone's events.
    case ingest
    /// One shop's till: redeems codes for that merchant.
    case merchant
    /// One resident's app: own events, balance, history and codes.
    case resident
}
