/// All Ayumi knows of a resident: a pseudonymous id chosen by the city's enrolment desk, a birth
/// year (for age-band reports), a district code and the day of enrolment. No name, no address,
/// no contact details.
public struct Resident: Sendable, Hashable, Codable {
    public var id: String
    public var birthYear: Int
    public var district: String
    public var enrolledOn: LocalDate

    public init(id: String, birthYear: Int, district: String, enrolledOn: LocalDate) {
        self.id = id
        self.birthYear = birthYear
        self.district = district
        self.enrolledOn = enrolledOn
    }

    public static let birthYearMin = 1900
}
