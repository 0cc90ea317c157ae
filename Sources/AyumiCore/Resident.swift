/// All Ayumi knows of a resident: a pseudonymous id chosen by the city's enrolment desk, a birth
/// year (reported only as an age band), a district code and the day of enrolment. No name, no
/// address, no contact details.
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

    /// Ten-year age bands ("60-69", "70+") are what reports show; exact ages are never exported.
    public func ageBand(on date: LocalDate) -> String {
        let age = date.year - birthYear
        if age >= 70 { return "70+" }
        if age < 20 { return "0-19" }
        let low = age / 10 * 10
        return "\(low)-\(low + 9)"
    }
}
