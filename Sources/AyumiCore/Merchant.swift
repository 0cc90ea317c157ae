/// A shop that accepts points. The settlement reference names the account the city pays into;
/// the account details themselves stay in the city's payment system.
public struct Merchant: Sendable, Hashable, Codable {
    public var id: String
    public var name: LocalizedText
    public var category: String
    public var zoneID: String
    public var settlementAccount: String
    /// An inactive merchant (marked `active: false`, or removed from the registry) redeems nothing
    /// and its tokens stop working; its past redemptions stay in the ledger and the reports.
    public var active: Bool
    /// The most points the shop may take in a local day, all residents together (nil: no limit),
    /// net of the refunds of that day's redemptions.
    public var pointsPerDayMax: Int64?
    /// The most points one resident may spend at the shop in a local day (nil: no limit).
    public var pointsPerResidentPerDayMax: Int64?
    /// Suspended by the city's staff (`POST /v1/admin/merchants/{id}/suspend`): redeems and refunds
    /// nothing until reinstated, while its token still reads its statements. Kept apart from
    /// `active`, which the registry file sets, so a restart never lifts a suspension.
    public var suspended: Bool

    public init(id: String, name: LocalizedText, category: String, zoneID: String, settlementAccount: String, active: Bool = true,
                pointsPerDayMax: Int64? = nil, pointsPerResidentPerDayMax: Int64? = nil, suspended: Bool = false) {
        self.id = id
        self.name = name
        self.category = category
        self.zoneID = zoneID
        self.settlementAccount = settlementAccount
        self.active = active
        self.pointsPerDayMax = pointsPerDayMax
        self.pointsPerResidentPerDayMax = pointsPerResidentPerDayMax
        self.suspended = suspended
    }

    /// Whether the shop may redeem and refund now.
    public var takesPoints: Bool { active && !suspended }
}

/// Who a bearer token speaks for. Tokens are stored only as SHA-256 hashes.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// The city's administrators: enrol residents, read reports.
    case admin
    /// A named feed (transit operator, shops' check-in scanners, a step-data gateway): submits
    /// anyone's events, of the kinds `Rules/program.yaml` lets ingest feeds (or that feed) submit.
    case ingest
    /// One shop's till: redeems codes for that merchant.
    case merchant
    /// One resident's app: own events, balance, history and codes.
    case resident
}
