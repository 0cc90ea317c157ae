import AyumiCore
import AyumiStore
import Foundation

/// Enrolment: a resident joins with the least personal data (a pseudonymous id, birth year,
/// district) and gets a token; tags and consents label residents for rules that target a group.
public struct Residents: Sendable {
    let dependencies: Dependencies

    public init(_ dependencies: Dependencies) { self.dependencies = dependencies }

    var store: any Store { dependencies.store }

    public func enrol(residentID: String, birthYear: Int, district: String) async throws -> (Resident, token: String) {
        let today = dependencies.today
        guard Identifier.isValid(residentID) else {
            throw AyumiError.invalidRequest("resident: 1-64 letters, digits or -_.: (a pseudonymous id, never a name)")
        }
        guard (Resident.birthYearMin...today.year).contains(birthYear) else {
            throw AyumiError.invalidRequest("birthYear: between \(Resident.birthYearMin) and \(today.year)")
        }
        guard district.utf8.count <= 16, !district.isEmpty, district.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw AyumiError.invalidRequest("district: a numeric district code such as 14101")
        }
        let resident = Resident(id: residentID, birthYear: birthYear, district: district, enrolledOn: today)
        let (token, stored) = Tokens(dependencies).mint(role: .resident, subject: residentID)
        do {
            try await store.enrol(resident, token: stored)
        } catch StoreError.residentExists {
            throw AyumiError.residentExists(residentID)
        }
        dependencies.logger.info("Resident enrolled", metadata: ["resident.id": "\(residentID)"])
        return (resident, token)
    }

    /// Sets a resident's tags and consents (each replaces the list it names), for rules that
    /// target a group or need a consent. Labels are identifiers; at most `Resident.labelsMax` each.
    public func label(residentID: String, tags: [String], consents: [String]) async throws -> Resident {
        for (name, labels) in [("tags", tags), ("consents", consents)] {
            guard labels.count <= Resident.labelsMax else { throw AyumiError.invalidRequest("\(name): at most \(Resident.labelsMax)") }
            if let bad = labels.first(where: { !Identifier.isValid($0) }) {
                throw AyumiError.invalidRequest("\(name): '\(bad.prefix(64))' is not 1-64 letters, digits or -_.:")
            }
        }
        guard let resident = try await store.label(residentID: residentID, tags: Array(Set(tags)).sorted(),
                                                   consents: Array(Set(consents)).sorted()) else {
            throw AyumiError.unknownResident(residentID)
        }
        dependencies.logger.info("Resident labelled", metadata: ["resident.id": "\(residentID)"])
        return resident
    }
}
