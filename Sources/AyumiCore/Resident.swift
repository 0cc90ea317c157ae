/// All Ayumi knows of a resident: a pseudonymous id chosen by the city's enrolment desk, a birth
/// year (for age-band reports), a district code, the day of enrolment, and the labels the city's
/// staff set (tags such as `pilot-group-b`, consents such as `research`). No name, no address,
/// no contact details.
public struct Resident: Sendable, Hashable, Codable {
    public var id: String
    public var birthYear: Int
    public var district: String
    public var enrolledOn: LocalDate
    /// Groups a rule may target (a pilot, a programme arm), sorted.
    public var tags: [String]
    /// What the resident agreed to (research use, a partner's offer), sorted.
    public var consents: [String]

    public init(id: String, birthYear: Int, district: String, enrolledOn: LocalDate, tags: [String] = [], consents: [String] = []) {
        self.id = id
        self.birthYear = birthYear
        self.district = district
        self.enrolledOn = enrolledOn
        self.tags = tags
        self.consents = consents
    }

    /// At most this many tags and this many consents per resident.
    public static let labelsMax = 32

    public static let birthYearMin = 1900
}
